"""Writes that never wait for the store's one writer (issue 14, task CL3): what a reader
computed and keeps for the others (`store.figure_cache`, `store.frame_snapshots`) is written
on a connection of its own with no busy timeout, so that while a sync (or any writer) holds
the write lock the value is simply not kept and the request goes on at once; the next one
computes it again.

`write` takes the value's size and bound (a value larger than the bound is not kept and no
connection is opened), the state of the archive the value was computed in and the function
that reads the state now (a value of an older state is never written), and the caller's
statements, run inside one `BEGIN IMMEDIATE` transaction with `secure_delete` on (the values
name subjects and senders: what they replace is overwritten).  Any SQLite error (busy,
read-only file, a store from before the table) rolls back and answers False.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


def write(
    path: Path,
    what: str,
    size: int,
    max_bytes: int,
    current: str,
    state: Callable[[sqlite3.Connection], str],
    statements: Callable[[sqlite3.Connection], None],
) -> bool:
    """Run `statements` on the store at `path` in one transaction if the state is still
    `current` (True: committed; False: not kept: `size` over `max_bytes`, the store busy,
    read-only to this process, in another state or without the table; `what` names the
    value in the log).  Never waits for another writer."""
    if size > max_bytes:
        logger.info("%s not kept: %d bytes, the limit is %d", what, size, max_bytes)
        return False
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    except sqlite3.Error as exc:
        logger.debug("%s not kept: %s", what, exc)
        return False
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        if state(conn) != current:  # the archive changed while the value was computed
            conn.execute("ROLLBACK")
            return False
        statements(conn)
        conn.execute("COMMIT")
        return True
    except sqlite3.Error as exc:  # busy (a sync is writing), read-only file, no table yet
        logger.debug("%s not kept: %s", what, exc)
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()
