"""The store's file compacted after it grew by a quarter (issue 14, store size).

Rows written by a sync are rewritten by it (threading sets each message's thread, parent,
depth and position; memberships and sequence numbers change), so its b-tree pages end up
partly filled: a fresh twisted-python sync left 7.4 MB of its 89.2 MB unused inside pages
(0 in free pages), which ``VACUUM`` gives back (81.8 MB, 0.23 s CPU).  `due` says when: the
store holds `GROWTH` times the messages it held at the last compaction (meta
``compacted_messages``, set by store migration 16: 0 for a new store, so its first sync
compacts it; an older store's count then), at least `MIN_MESSAGES`.  So the cost, one copy of
the file each time, is a fixed share of what the syncs wrote.  `listarchive.syncing` runs it
at the end of a sync, with the search index's (`search.sqlite_fts.SqliteFtsBackend.compact`).

``VACUUM`` holds the write lock while it runs (other writers wait: sessions, login attempts;
readers go on, WAL mode) and needs free disk about the file's size (a temporary copy, then
the write-ahead log, truncated at the end).
"""

from __future__ import annotations

import logging
import sqlite3

logger = logging.getLogger(__name__)

GROWTH = 1.25
MIN_MESSAGES = 1000


def _messages(conn: sqlite3.Connection) -> tuple[int, int]:
    """(messages now, messages at the last compaction)."""
    (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    row = conn.execute("SELECT value FROM meta WHERE key = 'compacted_messages'").fetchone()
    return int(count), int(row[0]) if row else int(count)


def due(conn: sqlite3.Connection) -> bool:
    count, last = _messages(conn)
    return count >= MIN_MESSAGES and count >= last * GROWTH


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
