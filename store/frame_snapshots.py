"""Frame snapshots kept in the store (issue 14, task FS): the statistics' frame of a scope
(`analytics.frame_snapshot`: its posts, persons and threads, a few bytes a post) written once
per state of the archive by whoever loaded it from the messages, and read back by every web
worker, after a restart too, instead of loading it again.

A row is a scope's key (its lists and access, as `analytics.frame` names it), the `state` it
was loaded in (`state()`: the change sequence, which every sync, removal and undo bumps, and
the persons version, which merges bump) and the snapshot's bytes (opaque here).  A row of
another state is never returned; a put deletes every row of another state and then, past
`max_bytes` in all, the smallest others (the frames quickest to load again), so the table
holds the frames of one state of the archive, bounded.

As `store.figure_cache`: readers look rows up on their own connection; a put uses a
connection of its own that never waits for the store's one writer (while a sync writes, the
snapshot is simply not kept), and a removal forgets every row inside its transaction (a
snapshot names subjects, senders and message keys; `secure_delete` overwrites their bytes).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from store import identities, unwaited

logger = logging.getLogger(__name__)


def state(conn: sqlite3.Connection) -> str:
    """The state of the archive a frame depends on (see the module's text)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
    return f"{row[0] if row else '0'}:{identities.version(conn)}"


def get(conn: sqlite3.Connection, key: str, current: str) -> bytes | None:
    """The snapshot kept for `key` in the state `current`, or None."""
    try:
        row = conn.execute(
            "SELECT value FROM frame_snapshots WHERE key = ? AND state = ?", (key, current)
        ).fetchone()
    except sqlite3.OperationalError:  # a store from before the table (not migrated yet)
        return None
    return bytes(row[0]) if row and isinstance(row[0], bytes) else None


def put(path: Path, key: str, current: str, value: bytes, max_bytes: int) -> bool:
    """Keep `value` for `key` in the state `current` (False: not kept: larger than
    `max_bytes`, the store busy, read-only to this process or in another state).  Never
    waits for another writer (`store.unwaited`)."""

    def statements(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM frame_snapshots WHERE state != ? OR key = ?", (current, key))
        kept = conn.execute(  # the smallest first: they cost the least to load again
            "SELECT rowid, length(value) FROM frame_snapshots ORDER BY length(value), rowid"
        ).fetchall()
        total = len(value) + sum(int(size) for _rowid, size in kept)
        for rowid, size in kept:
            if total <= max_bytes:
                break
            conn.execute("DELETE FROM frame_snapshots WHERE rowid = ?", (rowid,))
            total -= int(size)
        conn.execute(
            "INSERT INTO frame_snapshots (key, state, value) VALUES (?, ?, ?)",
            (key, current, value),
        )

    return unwaited.write(path, "frame snapshot", len(value), max_bytes, current, state, statements)


def drop(conn: sqlite3.Connection) -> None:
    """Forget every snapshot inside the caller's transaction (a removal)."""
    try:
        conn.execute("DELETE FROM frame_snapshots")
    except sqlite3.OperationalError as exc:  # a store from before the table
        if "no such table" not in str(exc):
            raise


def clear(conn: sqlite3.Connection) -> int:
    """Forget every snapshot (benchmarks measuring cold requests); returns how many."""
    with conn:
        found = conn.execute("DELETE FROM frame_snapshots").rowcount
    return int(found)
