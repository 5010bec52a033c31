"""Pipermail article numbers: which stored message an old `<period>/NNNNNN.html` link means.

The map is learnt from the archive's own date index (see `ingest.pipermail_map`) and kept per
(list, period): a period is replaced as a whole, so a rebuild never leaves stale numbers.  The
web UI reads it to redirect old links; a store created before migration 3 simply has no map.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from store.records import ListInfo


@dataclass(frozen=True, slots=True)
class PeriodMessage:
    """A stored message of one list and period, as the matcher needs it."""

    key: str
    message_id_norm: str
    subject: str
    from_name: str
    from_addr: str
    position: int
    """Its place in the period's volume (pipermail numbers articles in that order)."""
    in_reply_to: tuple[str, ...] = ()


def pipermail_name(url: str) -> str:
    """The list's name on its pipermail host: the last path segment of the archive URL
    (`http://host/pipermail/twisted-python/` -> `twisted-python`, hosted Mailman 2
    `.../pipermail/forum_example.org/` -> `forum_example.org`)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return unquote(segments[-1]) if segments else ""


def find_list(lists: Iterable[ListInfo], old_name: str) -> ListInfo | None:
    """The pipermail list whose archive URL ends in `old_name` (first by our list name)."""
    for info in sorted(lists, key=lambda i: i.name):
        if info.source == "pipermail" and pipermail_name(info.url) == old_name:
            return info
    return None


def _has_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pipermail_articles'"
    ).fetchone()
    return row is not None


def period_messages(conn: sqlite3.Connection, list_id: int, period: str) -> list[PeriodMessage]:
    """The messages a list holds from one period's volume, in volume order."""
    rows = conn.execute(
        "SELECT m.key, m.message_id_norm, m.subject, m.from_name, m.from_addr, ms.position, "
        "m.in_reply_to "
        "FROM memberships ms JOIN messages m ON m.id = ms.message "
        "WHERE ms.list = ? AND ms.origin = ? ORDER BY ms.position",
        (list_id, period),
    ).fetchall()
    return [
        PeriodMessage(key, msgid, subject, name, addr, position, tuple(json.loads(parents)))
        for key, msgid, subject, name, addr, position, parents in rows
    ]


def replace_period(
    conn: sqlite3.Connection, list_id: int, period: str, numbers: Mapping[int, str]
) -> None:
    """Store a period's map (article number -> message key), replacing the previous one."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "DELETE FROM pipermail_articles WHERE list = ? AND period = ?", (list_id, period)
        )
        conn.executemany(
            "INSERT INTO pipermail_articles (list, period, number, message_key) "
            "VALUES (?, ?, ?, ?)",
            [(list_id, period, number, key) for number, key in sorted(numbers.items())],
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def article_key(conn: sqlite3.Connection, list_id: int, period: str, number: int) -> str | None:
    if not _has_table(conn):
        return None
    row = conn.execute(
        "SELECT message_key FROM pipermail_articles WHERE list = ? AND period = ? AND number = ?",
        (list_id, period, number),
    ).fetchone()
    return str(row[0]) if row else None


def period_is_mapped(conn: sqlite3.Connection, list_id: int, period: str) -> bool:
    if not _has_table(conn):
        return False
    row = conn.execute(
        "SELECT 1 FROM pipermail_articles WHERE list = ? AND period = ? LIMIT 1",
        (list_id, period),
    ).fetchone()
    return row is not None


def period_numbers(conn: sqlite3.Connection, list_id: int, period: str) -> dict[int, str]:
    if not _has_table(conn):
        return {}
    rows = conn.execute(
        "SELECT number, message_key FROM pipermail_articles WHERE list = ? AND period = ?",
        (list_id, period),
    ).fetchall()
    return {int(number): str(key) for number, key in rows}


def has_period(conn: sqlite3.Connection, list_id: int, period: str) -> bool:
    """Whether the list has a stored volume of that name (a period we know)."""
    row = conn.execute(
        "SELECT 1 FROM volumes WHERE list = ? AND name = ?", (list_id, period)
    ).fetchone()
    return row is not None
