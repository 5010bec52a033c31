"""One write transaction on a store connection (opened in autocommit mode).

`with write(conn):` takes SQLite's write lock at once (BEGIN IMMEDIATE: one writer, no
deadlock upgrading a read), commits at the end and rolls back on any exception.  Inside a
transaction the caller already holds, it just runs in it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    if conn.in_transaction:  # the caller's transaction
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
