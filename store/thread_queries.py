"""Threads as a reader sees them: the stored summary when every message of a thread is
visible to the reader, else one computed from its visible messages (`store.visibility`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from store import removals
from store.visibility import Visibility


def _date(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    thread_id: str
    subject: str
    first_date: datetime | None
    last_date: datetime | None
    message_count: int
    root_key: str | None


def _ts(value: object) -> int | None:
    return value if isinstance(value, int) else None


def thread_summaries(
    conn: sqlite3.Connection, viewer: Visibility, thread_ids: Sequence[str]
) -> dict[str, ThreadSummary]:
    """The threads among `thread_ids` that have a visible message, as `viewer` sees them: the
    stored summary when every message is visible, else one computed from the visible messages
    (subject and root from the first in thread order, count and dates from all of them)."""
    found: dict[str, ThreadSummary] = {}
    for start in range(0, len(thread_ids), 900):
        chunk = list(thread_ids[start : start + 900])
        marks = ",".join("?" * len(chunk))
        stored = {
            str(r[0]): ThreadSummary(
                str(r[0]), str(r[1]), _date(_ts(r[2])), _date(_ts(r[3])), int(r[4]), r[5]
            )
            for r in conn.execute(
                "SELECT thread_id, subject, first_date, last_date, message_count, root_key "
                f"FROM threads WHERE thread_id IN ({marks})",
                chunk,
            )
        }
        if not viewer.hides_messages:
            found.update(stored)
            continue
        totals = dict(
            conn.execute(
                "SELECT thread_id, count(*) FROM messages "
                f"WHERE thread_id IN ({marks}) GROUP BY thread_id",
                chunk,
            ).fetchall()
        )
        for tid, count, first, last in conn.execute(
            "SELECT m.thread_id, count(*), min(m.date), max(m.date) FROM messages m "
            f"WHERE m.thread_id IN ({marks}) AND {viewer.messages('m')} GROUP BY m.thread_id",
            chunk,
        ).fetchall():
            if tid in stored and totals.get(tid) == count:
                found[tid] = stored[tid]
                continue
            root = conn.execute(
                "SELECT m.key, m.subject_norm FROM messages m "
                f"WHERE m.thread_id = ? AND {viewer.messages('m')} "
                "ORDER BY m.thread_pos, m.date, m.key LIMIT 1",
                (tid,),
            ).fetchone()
            found[tid] = ThreadSummary(
                str(tid),
                str(root[1]) if root else "",
                _date(first),
                _date(last),
                int(count),
                str(root[0]) if root else None,
            )
    return found


def recent_threads(
    conn: sqlite3.Connection, viewer: Visibility, *, limit: int = 20
) -> list[ThreadSummary]:
    """The threads with the latest visible messages, newest first (undated ones last).

    Walks the visible messages newest first on the date index and stops at `limit` threads,
    so the cost does not grow with the archive."""
    wanted: list[str] = []
    seen: set[str] = set()
    for dated in ("m.date IS NOT NULL ORDER BY m.date DESC", "m.date IS NULL"):
        if len(wanted) >= limit:
            break
        cursor = conn.execute(
            "SELECT m.thread_id FROM messages m "
            f"WHERE m.thread_id IS NOT NULL AND {viewer.messages('m')} AND {dated}"
        )
        for (tid,) in cursor:
            if tid not in seen:
                seen.add(tid)
                wanted.append(tid)
                if len(wanted) >= limit:
                    break
        cursor.close()
    summaries = thread_summaries(conn, viewer, wanted)
    return [summaries[t] for t in wanted if t in summaries]


def get_thread(
    conn: sqlite3.Connection, thread_id: str, viewer: Visibility
) -> ThreadSummary | None:
    """A thread as `viewer` sees it, or None when it has no visible message."""
    return thread_summaries(conn, viewer, [thread_id]).get(thread_id)


def threads_with_hidden(conn: sqlite3.Connection, viewer: Visibility) -> set[str]:
    """The threads holding a message `viewer` may not read (a hidden message is removed, or
    on private lists only, so only the private lists' memberships are looked at)."""
    found: set[str] = set()
    if viewer.removals:
        found.update(
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT m.thread_id FROM messages m "
                f"WHERE m.key IN ({removals.ACTIVE_KEYS}) AND m.thread_id IS NOT NULL"
            )
        )
    if viewer.include_private:
        return found
    found.update(
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT m.thread_id FROM lists l JOIN memberships ms ON ms.list = l.id "
            "JOIN messages m ON m.id = ms.message "
            f"WHERE l.private AND m.thread_id IS NOT NULL AND NOT ({viewer.messages('m')})"
        )
    )
    return found


def neighbour_threads(
    conn: sqlite3.Connection, thread_id: str, list_name: str, viewer: Visibility
) -> tuple[str | None, str | None]:
    """The previous and next thread on list `list_name` by their first visible message's date
    (ties by thread id), as `viewer` sees the list; None at either end."""
    rows = conn.execute(
        "SELECT m.thread_id, min(m.date) AS d FROM messages m "
        "JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list "
        f"WHERE l.name = ? AND m.thread_id IS NOT NULL AND m.date IS NOT NULL "
        f"AND {viewer.messages('m')} GROUP BY m.thread_id ORDER BY d, m.thread_id",
        (list_name,),
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    if thread_id not in ids:
        return None, None
    at = ids.index(thread_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


@dataclass(frozen=True, slots=True)
class ReplyContext:
    message_id: str
    """As written (angle brackets included); '' when the id was made up by ingest."""
    references: tuple[str, ...]


def reply_context(conn: sqlite3.Connection, key: str) -> ReplyContext | None:
    """What a reply to message `key` refers to: its Message-ID and References."""
    row = conn.execute(
        "SELECT message_id, msgid_synthetic, refs FROM messages WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    refs = json.loads(row[2]) if row[2] else []
    return ReplyContext("" if row[1] else str(row[0]), tuple(str(r) for r in refs))


def list_addresses(conn: sqlite3.Connection, names: Sequence[str]) -> dict[str, str]:
    """The posting addresses known for the lists `names` (lists without one left out)."""
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    return {
        str(r[0]): str(r[1])
        for r in conn.execute(
            f"SELECT name, address FROM lists WHERE name IN ({marks}) AND address != ''",
            list(names),
        )
    }
