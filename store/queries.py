"""Read queries for the web pages: lists, periods (volumes), threads and messages.

Pure SQL reads returning frozen dataclasses.  Privacy is decided here once: a message is
private when every list it is on is private (`lists.private`); callers pass
`include_private=False` for anonymous visitors and get neither private lists nor private
messages back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

_VOLUME_SUFFIXES = (".txt.gz", ".txt", ".mbox.gz", ".mbox", ".gz")


def _date(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def period_name(origin: str) -> str:
    """The period a volume stands for: its file name without directory and archive suffix
    (`2008-May.txt.gz` -> `2008-May`; a pipermail or HyperKitty volume is already bare)."""
    name = origin.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in _VOLUME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class ListSummary:
    id: int
    name: str
    community: str
    private: bool
    messages: int
    first_date: datetime | None
    last_date: datetime | None


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    name: str
    origins: tuple[str, ...]
    messages: int
    first_date: datetime | None
    last_date: datetime | None


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    thread_id: str
    subject: str
    first_date: datetime | None
    last_date: datetime | None
    message_count: int
    root_key: str | None


@dataclass(frozen=True, slots=True)
class MessageSummary:
    key: str
    subject: str
    from_name: str
    from_addr: str
    date: datetime | None
    thread_id: str | None


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    scrubbed_url: str


@dataclass(frozen=True, slots=True)
class MessageDetail:
    key: str
    message_id: str
    from_name: str
    from_addr: str
    to: tuple[tuple[str, str], ...]
    cc: tuple[tuple[str, str], ...]
    subject: str
    date: datetime | None
    date_offset: int | None
    body: str
    signature: str
    is_html_only: bool
    attachments: tuple[AttachmentInfo, ...]
    lists: tuple[str, ...]
    """Names of the lists the message is on (private ones left out unless asked for)."""
    private: bool
    thread_id: str | None
    parent_key: str | None
    depth: int | None
    thread_pos: int | None
    raw_size: int


def _public(include_private: bool) -> str:
    return "1" if include_private else "l.private = 0"


# -- lists and periods ----------------------------------------------------------------------


def list_summaries(conn: sqlite3.Connection, *, include_private: bool) -> list[ListSummary]:
    """Every (visible) list with its message count and date range, by name."""
    rows = conn.execute(
        "SELECT l.id, l.name, l.community, l.private, count(m.id), min(m.date), max(m.date) "
        "FROM lists l LEFT JOIN memberships ms ON ms.list = l.id "
        "LEFT JOIN messages m ON m.id = ms.message "
        f"WHERE {_public(include_private)} GROUP BY l.id ORDER BY l.name"
    ).fetchall()
    return [ListSummary(r[0], r[1], r[2], bool(r[3]), r[4], _date(r[5]), _date(r[6])) for r in rows]


def find_list(conn: sqlite3.Connection, name: str, *, include_private: bool) -> ListSummary | None:
    for summary in list_summaries(conn, include_private=include_private):
        if summary.name == name:
            return summary
    return None


def list_periods(conn: sqlite3.Connection, list_id: int) -> list[PeriodSummary]:
    """The periods (volumes) of a list with their stored message counts, newest first."""
    rows = conn.execute(
        "SELECT ms.origin, count(*), min(m.date), max(m.date) FROM memberships ms "
        "JOIN messages m ON m.id = ms.message WHERE ms.list = ? GROUP BY ms.origin",
        (list_id,),
    ).fetchall()
    merged: dict[str, tuple[list[str], int, int | None, int | None]] = {}
    for origin, count, first, last in rows:
        name = period_name(origin)
        origins, total, lo, hi = merged.get(name, ([], 0, None, None))
        origins.append(origin)
        lo = first if lo is None else (lo if first is None else min(lo, first))
        hi = last if hi is None else (hi if last is None else max(hi, last))
        merged[name] = (origins, total + count, lo, hi)
    periods = [
        PeriodSummary(name, tuple(sorted(o)), n, _date(lo), _date(hi))
        for name, (o, n, lo, hi) in merged.items()
    ]
    periods.sort(key=lambda p: (p.first_date.timestamp() if p.first_date else 0, p.name))
    periods.reverse()
    return periods


def period_messages(
    conn: sqlite3.Connection, list_id: int, origins: Sequence[str]
) -> list[MessageSummary]:
    """Messages of one period of a list, newest first."""
    marks = ",".join("?" * len(origins))
    rows = conn.execute(
        "SELECT m.key, m.subject, m.from_name, m.from_addr, m.date, m.thread_id "
        "FROM memberships ms JOIN messages m ON m.id = ms.message "
        f"WHERE ms.list = ? AND ms.origin IN ({marks}) "
        "ORDER BY m.date IS NULL, m.date DESC, ms.position DESC",
        (list_id, *origins),
    ).fetchall()
    return [MessageSummary(r[0], r[1], r[2], r[3], _date(r[4]), r[5]) for r in rows]


# -- threads ----------------------------------------------------------------------------------


def _thread_summary(row: Sequence[object]) -> ThreadSummary:
    first, last, count = row[2], row[3], row[4]
    return ThreadSummary(
        thread_id=str(row[0]),
        subject=str(row[1]),
        first_date=_date(first if isinstance(first, int) else None),
        last_date=_date(last if isinstance(last, int) else None),
        message_count=count if isinstance(count, int) else 0,
        root_key=str(row[5]) if row[5] is not None else None,
    )


_THREAD_COLUMNS = "t.thread_id, t.subject, t.first_date, t.last_date, t.message_count, t.root_key"
_VISIBLE_THREAD = (
    "EXISTS (SELECT 1 FROM messages m JOIN memberships ms ON ms.message = m.id "
    "JOIN lists l ON l.id = ms.list WHERE m.thread_id = t.thread_id AND {public})"
)


def recent_threads(
    conn: sqlite3.Connection, *, include_private: bool, limit: int = 20
) -> list[ThreadSummary]:
    """The threads with the latest messages (that have a visible message), newest first."""
    visible = _VISIBLE_THREAD.format(public=_public(include_private))
    rows = conn.execute(
        f"SELECT {_THREAD_COLUMNS} FROM threads t WHERE {visible} "
        "ORDER BY t.last_date IS NULL, t.last_date DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [_thread_summary(r) for r in rows]


def get_thread(conn: sqlite3.Connection, thread_id: str) -> ThreadSummary | None:
    row = conn.execute(
        f"SELECT {_THREAD_COLUMNS} FROM threads t WHERE t.thread_id = ?", (thread_id,)
    ).fetchone()
    return _thread_summary(row) if row else None


# -- messages ---------------------------------------------------------------------------------

_DETAIL_COLUMNS = (
    "m.id, m.key, m.message_id, m.from_name, m.from_addr, m.to_json, m.cc_json, m.subject, "
    "m.date, m.date_offset, m.body, m.signature, m.is_html_only, m.attachments, m.thread_id, "
    "m.parent_key, m.depth, m.thread_pos, m.raw_size"
)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(a[0]), str(a[1])) for a in json.loads(text))


def _details(
    conn: sqlite3.Connection, where: str, params: Sequence[object], *, include_private: bool
) -> list[MessageDetail]:
    rows = conn.execute(f"SELECT {_DETAIL_COLUMNS} FROM messages m WHERE {where}", params)
    rows_list = rows.fetchall()
    if not rows_list:
        return []
    memberships: dict[int, list[tuple[str, bool]]] = {r[0]: [] for r in rows_list}
    ids = list(memberships)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for message, name, private in conn.execute(
            "SELECT ms.message, l.name, l.private FROM memberships ms "
            f"JOIN lists l ON l.id = ms.list WHERE ms.message IN ({marks}) ORDER BY l.name",
            chunk,
        ):
            memberships[message].append((name, bool(private)))
    found: list[MessageDetail] = []
    for r in rows_list:
        lists = memberships[r[0]]
        private = bool(lists) and all(p for _, p in lists)
        if private and not include_private:
            continue
        shown = tuple(n for n, p in lists if include_private or not p)
        found.append(
            MessageDetail(
                key=r[1],
                message_id=r[2],
                from_name=r[3],
                from_addr=r[4],
                to=_pairs(r[5]),
                cc=_pairs(r[6]),
                subject=r[7],
                date=_date(r[8]),
                date_offset=r[9],
                body=r[10],
                signature=r[11],
                is_html_only=bool(r[12]),
                attachments=tuple(
                    AttachmentInfo(str(a[0]), str(a[1]), int(a[2]), str(a[3]))
                    for a in json.loads(r[13])
                ),
                lists=shown,
                private=private,
                thread_id=r[14],
                parent_key=r[15],
                depth=r[16],
                thread_pos=r[17],
                raw_size=r[18],
            )
        )
    return found


def get_message(
    conn: sqlite3.Connection, key: str, *, include_private: bool
) -> MessageDetail | None:
    """One message by key, or None when unknown (or private and not asked for)."""
    found = _details(conn, "m.key = ?", (key,), include_private=include_private)
    return found[0] if found else None


def thread_messages(
    conn: sqlite3.Connection, thread_id: str, *, include_private: bool
) -> list[MessageDetail]:
    """The (visible) messages of a thread in thread order (depth first, replies by date)."""
    return _details(
        conn,
        "m.thread_id = ? ORDER BY m.thread_pos, m.date, m.key",
        (thread_id,),
        include_private=include_private,
    )
