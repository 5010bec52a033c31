"""The store's file compacted after it grew by a quarter (issue 14, store size).

Rows written by a sync are rewritten by it (threading sets each message's thread, parent,
depth and position; memberships and sequence numbers change), so its b-tree pages end up
partly filled: a fresh twisted-python sync left 7.4 MB of its 89.2 MB unused inside pages
(0 in free pages), which ``VACUUM`` gives back (81.8 MB, 0.23 s CPU).  `due` says when: the
store holds ``store.compact_growth`` (`GROWTH`) times the messages it held at the last
compaction (meta ``compacted_messages``, set by store migration 16: 0 for a new store, so its
first sync compacts it; an older store's count then), at least `MIN_MESSAGES`.  So the cost,
one copy of the file each time, is a fixed share of what the syncs wrote.
`listarchive.syncing` runs it at the end of a sync, with the search index's
(`search.sqlite_fts.SqliteFtsBackend.compact`), unless the file is larger than
``store.compact_max_bytes`` (`too_large`): then one log line, and ``listarchive runs`` shows
the skip (`record`, `last`) until ``listarchive compact`` is run by hand.

``VACUUM`` holds the write lock while it runs (other writers wait: sessions, login attempts,
another list's sync; readers go on, WAL mode) and needs free disk about the file's size (a
temporary copy, then the write-ahead log, truncated at the end).  Its time grows with the
file: seconds at 300k messages (2.3 s CPU for 877 MB), minutes for the 3.2 GB of 1M, hence
the bound.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

GROWTH = 1.25
"""Default of ``store.compact_growth``."""
MAX_BYTES = 1 << 30
"""Default of ``store.compact_max_bytes`` (1 GiB)."""
MIN_MESSAGES = 1000

_LAST = "last_compaction"


def _messages(conn: sqlite3.Connection) -> tuple[int, int]:
    """(messages now, messages at the last compaction)."""
    (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    row = conn.execute("SELECT value FROM meta WHERE key = 'compacted_messages'").fetchone()
    return int(count), int(row[0]) if row else int(count)


def due(conn: sqlite3.Connection, growth: float = GROWTH) -> bool:
    count, last = _messages(conn)
    return count >= MIN_MESSAGES and count >= last * growth


def file_bytes(path: Path) -> int:
    """Bytes of the database file at `path` (0: none)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def too_large(path: Path, max_bytes: int) -> str:
    """Why the file at `path` is not compacted automatically ("" when it may be): it is
    larger than `max_bytes` (``store.compact_max_bytes``)."""
    size = file_bytes(path)
    if size <= max_bytes:
        return ""
    return (
        f"{path.name} ({size / 1e6:,.1f} MB) is larger than store.compact_max_bytes "
        f"({max_bytes / 1e6:,.1f} MB): not compacted after the sync; run `listarchive compact`"
    )


def compact(conn: sqlite3.Connection) -> None:
    """``VACUUM`` the store (autocommit connection, no transaction open) and remember its
    message count."""
    count, _last = _messages(conn)
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('compacted_messages', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(count),),
    )
    logger.info("store compacted (%d messages)", count)


def record(conn: sqlite3.Connection, status: str, detail: str = "") -> None:
    """Remember the last compaction decision (`status`: ``done``, ``skipped``) for `last`."""
    value = json.dumps(
        {"at": datetime.now(UTC).isoformat(timespec="seconds"), "status": status, "detail": detail}
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_LAST, value),
    )


def last(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The last compaction decision recorded (`record`), or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_LAST,)).fetchone()
    if row is None:
        return None
    found: dict[str, Any] = json.loads(row[0])
    return found
