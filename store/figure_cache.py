"""Computed figures kept in the store (issue 14): the statistics dashboards of a scope are
computed once per state of the archive and read back by every web worker, after a restart too.

An entry is a key (what was asked: page, scope, window, parameters, as the caller names them),
the `state` it was computed in (`state()`: the change sequence, which every sync, removal and
undo bumps, the persons version, which merges bump, and the persons marked as bots) and its
value (JSON text, opaque here).  An entry of another state is never returned; putting one
deletes every entry of an older state, so the table holds the figures of one state of the
archive: at most `MAX_ENTRIES` of them, and at most ``web.figure_cache_bytes`` (`put`'s
`max_bytes`) of values, the least recently put dropped first.  A value is kept as UTF-8
bytes (a BLOB: SQLite reads its length from the row's header, not its overflow pages, so
the bound costs no read of the values; an entry of before is text, ASCII JSON, and goes with
the next state).

Readers look entries up on their own (read-only) connection.  A put uses a connection of its
own that never waits for the store's one writer: while a sync writes, the figures are simply
not kept (the next request computes them again).  Nothing here knows what the figures are.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

from store import bots, frame_snapshots, identities, unwaited

logger = logging.getLogger(__name__)

MAX_ENTRIES = 500
MAX_BYTES = 256 * 1024 * 1024
"""Default of ``web.figure_cache_bytes``: bytes of values kept at most (a 1M-message store's
dashboards take ~0.2 MB each, so 500 entries stay under it)."""


def state(conn: sqlite3.Connection) -> str:
    """The state of the archive the figures depend on (see the module's text)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
    marked = ",".join(str(i) for i in sorted(bots.bot_ids(conn)))
    digest = hashlib.sha256(marked.encode()).hexdigest()[:16]
    return f"{row[0] if row else '0'}:{identities.version(conn)}:{digest}"


def get(conn: sqlite3.Connection, key: str, current: str) -> str | None:
    """The value kept for `key` in the state `current`, or None."""
    try:
        row = conn.execute(
            "SELECT value FROM figure_cache WHERE key = ? AND state = ?", (key, current)
        ).fetchone()
    except sqlite3.OperationalError:  # a store from before the table (not migrated yet)
        return None
    if row is None:
        return None
    found = row[0]
    return found.decode("utf-8") if isinstance(found, bytes) else str(found)


def put(path: Path, key: str, current: str, value: str, max_bytes: int = MAX_BYTES) -> bool:
    """Keep `value` for `key` in the state `current` (False: not kept, the store was busy
    or is read-only to this process, or the value alone is larger than `max_bytes`); older
    entries go past `MAX_ENTRIES` or `max_bytes`.  Never waits for another writer
    (`store.unwaited`; figures name people and subjects: once dropped their bytes are
    overwritten, as the store does for deleted content)."""
    data = value.encode("utf-8")

    def statements(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM figure_cache WHERE state != ?", (current,))
        used = conn.execute("SELECT coalesce(max(used), 0) + 1 FROM figure_cache").fetchone()[0]
        conn.execute(
            "INSERT INTO figure_cache (key, state, used, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, used = excluded.used, "
            "value = excluded.value",
            (key, current, used, data),
        )
        conn.execute("DELETE FROM figure_cache WHERE used <= ?", (int(used) - MAX_ENTRIES,))
        conn.execute(_OVER_BYTES, (max_bytes,))

    return unwaited.write(path, "figures", len(data), max_bytes, current, state, statements)


_OVER_BYTES = (
    "DELETE FROM figure_cache WHERE used <= (SELECT max(used) FROM (SELECT used, "
    "sum(length(value)) OVER (ORDER BY used DESC) AS held FROM figure_cache) WHERE held > ?)"
)
"""The entries past the byte bound: every one from the newest whose value, with the newer
ones', takes more than the bound (the one just put never does)."""


def drop(conn: sqlite3.Connection) -> None:
    """Forget every entry inside the caller's transaction (a removal: kept figures may name
    the removed messages' subjects and senders, and a purge leaves nothing of them), and
    the frame snapshots (`store.frame_snapshots`), which do too."""
    conn.execute("DELETE FROM figure_cache")
    frame_snapshots.drop(conn)


def clear(conn: sqlite3.Connection) -> int:
    """Forget every entry and the frame snapshots (benchmarks measuring cold requests);
    returns how many entries."""
    with conn:
        found = conn.execute("DELETE FROM figure_cache").rowcount
        frame_snapshots.drop(conn)
    return int(found)
