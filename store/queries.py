"""Read queries for the web pages: lists, periods (volumes), threads and messages.

Pure SQL reads returning frozen dataclasses.  What a reader may see is decided by
`store.visibility` (a `Visibility` passed in as `viewer`): invisible lists and messages are
never read, and a thread is summarised from its visible messages.  Message bodies are read
bounded (`max_body_chars`: only the bytes those characters can take are inflated from the
stored stream, `store.content`), so a huge stored body never reaches a page whole.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from store import communities
from store.content import blob_blocks, body_from_blocks
from store.visibility import Visibility, is_private, not_removed

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
    communities: tuple[str, ...] = ()
    """Every community of the list (`community` is its first)."""


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    name: str
    origins: tuple[str, ...]
    messages: int
    first_date: datetime | None
    last_date: datetime | None


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
    body_length: int = 0
    """Characters of the whole stored body (`body` holds at most the bound read)."""
    date_source: str = "header"
    """Where `date` came from: header, unixfrom (the mbox From_ line), received, none."""

    @property
    def body_truncated(self) -> bool:
        return self.body_length > len(self.body)


# -- lists and periods ----------------------------------------------------------------------


def list_summaries(conn: sqlite3.Connection, viewer: Visibility) -> list[ListSummary]:
    """Every (visible) list with its message count and date range, by name."""
    rows = conn.execute(
        "SELECT l.id, l.name, l.community, l.private, count(m.id), min(m.date), max(m.date) "
        "FROM lists l LEFT JOIN memberships ms ON ms.list = l.id "
        f"LEFT JOIN messages m ON m.id = ms.message AND {viewer.not_removed('m')} "
        f"WHERE {viewer.lists('l')} GROUP BY l.id ORDER BY l.name"
    ).fetchall()
    member_of = communities.of_lists(conn)
    return [
        ListSummary(
            r[0], r[1], r[2], bool(r[3]), r[4], _date(r[5]), _date(r[6]), member_of.get(r[0], ())
        )
        for r in rows
    ]


def find_list(conn: sqlite3.Connection, name: str, viewer: Visibility) -> ListSummary | None:
    for summary in list_summaries(conn, viewer):
        if summary.name == name:
            return summary
    return None


def list_periods(conn: sqlite3.Connection, list_id: int) -> list[PeriodSummary]:
    """The periods (volumes) of a list with their stored message counts, newest first."""
    rows = conn.execute(
        "SELECT ms.origin, count(*), min(m.date), max(m.date) FROM memberships ms "
        "JOIN messages m ON m.id = ms.message "
        f"WHERE ms.list = ? AND {not_removed('m')} GROUP BY ms.origin",
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
    conn: sqlite3.Connection, list_id: int, origins: Sequence[str], viewer: Visibility
) -> list[MessageSummary]:
    """The (visible) messages of one period of a list, newest first."""
    marks = ",".join("?" * len(origins))
    rows = conn.execute(
        "SELECT m.key, m.subject, m.from_name, m.from_addr, m.date, m.thread_id "
        "FROM memberships ms JOIN messages m ON m.id = ms.message "
        f"WHERE ms.list = ? AND ms.origin IN ({marks}) AND {viewer.messages('m')} "
        "ORDER BY m.date IS NULL, m.date DESC, ms.position DESC",
        (list_id, *origins),
    ).fetchall()
    return [MessageSummary(r[0], r[1], r[2], r[3], _date(r[4]), r[5]) for r in rows]


# -- messages ---------------------------------------------------------------------------------


def _detail_columns(viewer: Visibility, max_body_chars: int | None) -> str:
    """The columns `_details` reads; signatures cut to `max_body_chars` in SQL (None: whole,
    0: none), bodies by `_body` from the stored stream (`store.content`), read from its blob
    (`m.id`) only as far as they need: the stream itself is not a column read here."""
    if max_body_chars is None:
        signature, length = "m.signature", "m.body_chars"
    elif max_body_chars <= 0:  # no body wanted (neighbours, checks): not even its length
        signature, length = "''", "0"
    else:
        bound = max(int(max_body_chars), 0)
        signature, length = f"substr(m.signature, 1, {bound})", "m.body_chars"
    return (
        "m.id, m.key, m.message_id, m.from_name, m.from_addr, m.to_json, m.cc_json, m.subject, "
        f"m.date, m.date_offset, NULL, {signature}, m.is_html_only, m.attachments, "
        f"m.thread_id, {viewer.parent_key('m')}, m.depth, m.thread_pos, m.raw_size, "
        f"{length}, m.parent_key, m.date_source, m.body_bytes"
    )


BODY_BLOCK = 1 << 14
"""Compressed bytes `_body` reads from a stored stream per step."""


def _blocks(conn: sqlite3.Connection, rowid: int) -> Generator[bytes, None, None]:
    """The stored stream of message `rowid`, BODY_BLOCK bytes at a time from its blob."""
    yield from blob_blocks(conn, rowid, BODY_BLOCK)


def _body(conn: sqlite3.Connection, rowid: int, body_bytes: int, max_body_chars: int | None) -> str:
    """The body of a `_details` row, at most `max_body_chars` characters of it inflated and
    only the start of its stream read (not the raw bytes and attachments after the body)."""
    if body_bytes <= 0 or (max_body_chars is not None and max_body_chars <= 0):
        return ""
    blocks = _blocks(conn, rowid)
    try:
        return body_from_blocks(blocks, body_bytes, max_body_chars)
    except sqlite3.OperationalError:  # the row went between the SELECT and the blob's open
        return ""
    finally:
        blocks.close()


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(a[0]), str(a[1])) for a in json.loads(text))


def _details(
    conn: sqlite3.Connection,
    where: str,
    params: Sequence[object],
    viewer: Visibility,
    max_body_chars: int | None,
) -> list[MessageDetail]:
    """The visible messages matching `where` (then `order`) on `messages m`."""
    where, _, order = where.partition(" ORDER BY ")
    rows_list = conn.execute(
        f"SELECT {_detail_columns(viewer, max_body_chars)} FROM messages m "
        f"WHERE ({where}) AND {viewer.messages('m')}" + (f" ORDER BY {order}" if order else ""),
        params,
    ).fetchall()
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
    depths: dict[str, tuple[int | None, int | None]] = {}  # key -> (stored, shown) depth
    for r in rows_list:
        lists = memberships[r[0]]
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
                body=_body(conn, r[0], r[22], max_body_chars),
                signature=r[11],
                is_html_only=bool(r[12]),
                attachments=tuple(
                    AttachmentInfo(str(a[0]), str(a[1]), int(a[2]), str(a[3]))
                    for a in json.loads(r[13])
                ),
                lists=tuple(viewer.shown_lists(n for n, _ in lists)),
                private=is_private([p for _, p in lists]),
                thread_id=r[14],
                parent_key=r[15],
                depth=_shown_depth(depths, r[1], r[16], r[15], r[20]),
                thread_pos=r[17],
                raw_size=r[18],
                body_length=r[19],
                date_source=r[21],
            )
        )
    return found


def _shown_depth(
    depths: dict[str, tuple[int | None, int | None]],
    key: str,
    depth: int | None,
    parent: str | None,
    stored_parent: str | None,
) -> int | None:
    """The depth of a message among the visible ones (read in thread order): a reply whose
    parent is hidden starts a branch of its own (depth 0); below a visible parent it keeps its
    stored distance to it; with nothing hidden this is the stored depth."""
    shown = depth
    if parent is not None and parent in depths:
        parent_stored, parent_shown = depths[parent]
        if depth is not None and parent_stored is not None and parent_shown is not None:
            shown = parent_shown + max(depth - parent_stored, 1)
    elif parent is None and stored_parent is not None:
        shown = 0
    depths[key] = (depth, shown)
    return shown


def get_message(
    conn: sqlite3.Connection,
    key: str,
    viewer: Visibility,
    *,
    max_body_chars: int | None = None,
) -> MessageDetail | None:
    """One visible message by key (its body cut to `max_body_chars`), or None."""
    found = _details(conn, "m.key = ?", (key,), viewer, max_body_chars)
    return found[0] if found else None


def thread_messages(
    conn: sqlite3.Connection,
    thread_id: str,
    viewer: Visibility,
    *,
    max_body_chars: int | None = None,
) -> list[MessageDetail]:
    """The visible messages of a thread in thread order (depth first, replies by date)."""
    return _details(
        conn,
        "m.thread_id = ? ORDER BY m.thread_pos, m.date, m.key",
        (thread_id,),
        viewer,
        max_body_chars,
    )
