"""`store.unwaited.write`, the write the figure cache and the frame snapshots make (issue 14,
task CL3): kept when the store is free and in the same state; dropped, not waited for, while
another connection holds the write lock; dropped when the state moved, the value is over its
bound or a statement fails, with nothing of it left behind."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from store import figure_cache, frame_snapshots, unwaited
from store.store import Store


@pytest.fixture
def store(data_dir: Path) -> Store:
    return Store(data_dir / "store.db")


def _insert(key: str) -> Callable[[sqlite3.Connection], None]:
    def statements(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO frame_snapshots (key, state, value) VALUES (?, ?, ?)",
            (key, "s", b"v"),
        )

    return statements


def _keys(store: Store) -> list[str]:
    rows = store.conn.execute("SELECT key FROM frame_snapshots ORDER BY key").fetchall()
    return [str(r[0]) for r in rows]


def _same(conn: sqlite3.Connection) -> str:
    return "s"


def test_kept_when_the_store_is_free(store: Store) -> None:
    assert unwaited.write(store.path, "test", 1, 10, "s", _same, _insert("a"))
    assert _keys(store) == ["a"]


def test_a_busy_store_drops_the_write_and_never_waits(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection holds the write lock until the write has answered, or for 2 s
    once the write has begun its transaction: a write that waited for the lock (a busy
    timeout over 2 s: sqlite3's default is 5) would get it and be kept, so False here says
    it did not wait."""
    held = threading.Event()
    begun = threading.Event()
    answered = threading.Event()
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: begun.set() if sql.startswith("BEGIN") else None)
        return conn

    def hold_the_lock() -> None:
        conn = connect(store.path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            if begun.wait(20):
                answered.wait(2)
            conn.execute("COMMIT")
        finally:
            conn.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert held.wait(20)
        ran: list[bool] = []

        def statements(conn: sqlite3.Connection) -> None:
            ran.append(True)
            _insert("busy")(conn)

        monkeypatch.setattr(sqlite3, "connect", traced)
        kept = unwaited.write(store.path, "test", 1, 10, "s", _same, statements)
        monkeypatch.undo()
    finally:
        answered.set()
        holder.join()
    assert begun.is_set()
    assert not kept and not ran
    assert _keys(store) == []
    # the lock gone, the same write is kept: the busy store was the reason
    assert unwaited.write(store.path, "test", 1, 10, "s", _same, _insert("busy"))


def test_the_callers_drop_while_busy(store: Store) -> None:
    """figure_cache.put and frame_snapshots.put both go through it."""
    figures = figure_cache.state(store.conn)
    frames = frame_snapshots.state(store.conn)
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        assert not figure_cache.put(store.path, "k", figures, "{}")
        assert not frame_snapshots.put(store.path, "k", frames, b"x", 100)
    finally:
        conn.execute("COMMIT")
        conn.close()
    assert figure_cache.put(store.path, "k", figures, "{}")
    assert frame_snapshots.put(store.path, "k", frames, b"x", 100)


def test_another_state_is_not_written(store: Store) -> None:
    assert not unwaited.write(store.path, "test", 1, 10, "old", _same, _insert("a"))
    assert _keys(store) == []


def test_over_the_bound_nothing_is_written(store: Store) -> None:
    ran: list[bool] = []

    def statements(conn: sqlite3.Connection) -> None:
        ran.append(True)
        _insert("big")(conn)

    assert not unwaited.write(store.path, "test", 11, 10, "s", _same, statements)
    assert not ran and _keys(store) == []


def test_a_failing_statement_rolls_back(store: Store) -> None:
    def statements(conn: sqlite3.Connection) -> None:
        _insert("half")(conn)
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    assert not unwaited.write(store.path, "test", 1, 10, "s", _same, statements)
    assert _keys(store) == []
    assert unwaited.write(store.path, "test", 10, 10, "s", _same, _insert("b"))  # at the bound
    assert _keys(store) == ["b"]
