"""What a list or a month is about at a glance (issue 13): its threads with replies,
participants and last activity, and a list's messages per month (for the home page's
sparklines).  Everything is counted over the messages the viewer may read
(`store.visibility`); a thread's figures are those of its visible messages."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from store import thread_queries
from store.thread_queries import ThreadSummary
from store.visibility import Visibility

SORTS = ("activity", "date")
"""`activity`: most messages in the scope first; `date`: latest activity first."""
ACTIVE_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ThreadRow:
    thread: ThreadSummary
    in_scope: int
    """Visible messages of the thread in the list (or month) looked at."""
    participants: int
    """Distinct senders of the thread's visible messages."""
    scope_last: datetime | None


def _date(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _participants(
    conn: sqlite3.Connection, viewer: Visibility, thread_ids: Sequence[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(thread_ids), 900):
        chunk = list(thread_ids[start : start + 900])
        marks = ",".join("?" * len(chunk))
        found.update(
            (str(r[0]), int(r[1]))
            for r in conn.execute(
                "SELECT m.thread_id, count(DISTINCT lower(coalesce(nullif(m.from_addr, ''), "
                f"m.from_name))) FROM messages m WHERE m.thread_id IN ({marks}) "
                f"AND {viewer.messages('m')} GROUP BY m.thread_id",
                chunk,
            )
        )
    return found


def list_threads(
    conn: sqlite3.Connection,
    list_id: int,
    viewer: Visibility,
    *,
    origins: Sequence[str] | None = None,
    since: datetime | None = None,
    sort: str = "activity",
    newest_started: bool = False,
    limit: int = 50,
) -> list[ThreadRow]:
    """The threads with visible messages on list `list_id` (in the volumes `origins`, or
    dated `since` or later), sorted by `sort` (`SORTS`) or, with `newest_started`, by
    their first message on the list, newest first; at most `limit`."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    # a message on a list the viewer may open is visible unless removed (store.visibility)
    where = ["ms.list = ?", "m.thread_id IS NOT NULL", viewer.not_removed("m")]
    params: list[object] = [list_id]
    if origins is not None:
        where.append(f"ms.origin IN ({','.join('?' * len(origins))})")
        params.extend(origins)
    if since is not None:
        where.append("m.date >= ?")
        params.append(int(since.timestamp()))
    if newest_started:
        order = "min(m.date) IS NULL, min(m.date) DESC"
    elif sort == "activity":
        order = "count(*) DESC, max(m.date) IS NULL, max(m.date) DESC"
    else:
        order = "max(m.date) IS NULL, max(m.date) DESC, count(*) DESC"
    rows = conn.execute(
        "SELECT m.thread_id, count(*), max(m.date) FROM memberships ms "
        f"JOIN messages m ON m.id = ms.message WHERE {' AND '.join(where)} "
        f"GROUP BY m.thread_id ORDER BY {order}, m.thread_id LIMIT ?",
        (*params, max(int(limit), 0)),
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    summaries = thread_queries.thread_summaries(conn, viewer, ids)
    people = _participants(conn, viewer, ids)
    return [
        ThreadRow(summaries[str(r[0])], int(r[1]), people.get(str(r[0]), 0), _date(r[2]))
        for r in rows
        if str(r[0]) in summaries
    ]


def active_since(last_date: datetime | None) -> datetime | None:
    """The start of a list's "most active" window: the 30 days up to its last visible
    message (so a historical archive shows its last active month, not an empty one)."""
    return last_date - ACTIVE_WINDOW if last_date is not None else None


@dataclass(frozen=True, slots=True)
class Monthly:
    first: str
    """First month with mail, `YYYY-MM`."""
    last: str
    counts: tuple[int, ...]
    """Messages per month from `first` to `last`, months without mail as 0."""


def monthly_counts(conn: sqlite3.Connection, viewer: Visibility) -> dict[str, Monthly]:
    """Per visible list name: its visible dated messages per calendar month (UTC).  A
    message on a list the viewer may open is visible unless removed, as in
    `queries.list_summaries`, whose totals these add up to (undated ones aside)."""
    rows = conn.execute(
        "SELECT l.name, strftime('%Y-%m', m.date, 'unixepoch'), count(*) FROM lists l "
        "JOIN memberships ms ON ms.list = l.id JOIN messages m ON m.id = ms.message "
        f"WHERE {viewer.lists('l')} AND {viewer.not_removed('m')} AND m.date IS NOT NULL "
        "GROUP BY l.name, 2"
    ).fetchall()
    by_list: dict[str, dict[str, int]] = {}
    for name, month, count in rows:
        by_list.setdefault(str(name), {})[str(month)] = int(count)
    return {name: _fill(months) for name, months in by_list.items()}


def _fill(months: dict[str, int]) -> Monthly:
    keys = sorted(months)
    year, month = (int(p) for p in keys[0].split("-"))
    counts: list[int] = []
    while True:
        key = f"{year:04d}-{month:02d}"
        counts.append(months.get(key, 0))
        if key >= keys[-1]:
            return Monthly(keys[0], keys[-1], tuple(counts))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
