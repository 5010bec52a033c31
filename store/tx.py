"""One write transaction on a store connection (opened in autocommit mode).

`with write(conn):` takes SQLite's write lock at once (BEGIN IMMEDIATE: one writer, no
deadlock upgrading a read), commits at the end and rolls back on any exception.  Inside a
transaction the caller already holds, it just runs in it.

A full disk (SQLITE_FULL, also what `PRAGMA max_page_count` gives) becomes `StoreFullError`.
SQLite may already have rolled the transaction back by itself when a write fails: the
rollback is then not attempted (it would fail with `cannot rollback - no transaction is
active` and hide the real error)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import StoreFullError

logger = logging.getLogger(__name__)

SQLITE_FULL = 13


def is_full(exc: BaseException) -> bool:
    """The SQLite error says the disk or the database is full."""
    if not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == SQLITE_FULL
    return "database or disk is full" in str(exc)


def database_path(conn: sqlite3.Connection) -> Path:
    """The file of the connection's main database (for messages)."""
    try:
        for _seq, name, file in conn.execute("PRAGMA database_list"):
            if name == "main" and file:
                return Path(file)
    except sqlite3.Error:
        pass
    return Path("store.db")


def translate(exc: BaseException, conn: sqlite3.Connection, path: Path | None = None) -> None:
    """Raise StoreFullError from `exc` when it means the disk is full (else return)."""
    if is_full(exc):
        raise StoreFullError(path or database_path(conn)) from exc


def _rollback(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        return
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:  # the original error matters more: it is raised
        logger.warning("rollback failed: %s", exc)


@contextmanager
def transaction(conn: sqlite3.Connection, path: Path | None = None) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (see the module doc)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        translate(exc, conn, path)
        raise
    try:
        yield
        conn.execute("COMMIT")
    except BaseException as exc:
        _rollback(conn)
        translate(exc, conn, path)
        raise


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    if conn.in_transaction:  # the caller's transaction
        yield conn
        return
    with transaction(conn):
        yield conn
