"""A store whose write lock another process holds (a sync's volume transaction) past the busy
timeout: a writing command ends with a message, never a traceback, and opening the store to
write does not itself wait for the lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import faults
from store.store import Store
from tests.cli.test_cli import invoke, ok


def test_a_writing_command_beside_a_held_write_lock_ends_with_a_message(tmp_path: Path) -> None:
    ok(tmp_path, "lists")  # creates the store
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = invoke(
            tmp_path, "lists", "add", "busy-list", "--pipermail", "http://127.0.0.1:9/busy/"
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "the store is busy" in result.output
    assert "run the command again" in result.output


def test_opening_an_existing_store_to_write_takes_no_write_lock(tmp_path: Path) -> None:
    Store(tmp_path / "store.db").close()
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = Store(tmp_path / "store.db")
        store.conn.execute("PRAGMA busy_timeout = 100")
        try:
            assert store.store_id  # it opened and reads
        finally:
            store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_busy_is_told_apart_from_other_sqlite_errors() -> None:
    assert faults.is_busy(sqlite3.OperationalError("database is locked"))
    assert not faults.is_busy(sqlite3.OperationalError("no such table: x"))
    assert not faults.is_busy(ValueError("database is locked"))
