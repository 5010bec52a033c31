from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from store import locks
from store.store import Store


def _conn(tmp_path: Path) -> sqlite3.Connection:
    store = Store(tmp_path / "store.db")
    return store.conn


def test_one_holder_at_a_time(tmp_path: Path) -> None:
    conn = _conn(tmp_path)
    me = locks.default_owner()
    assert locks.acquire(conn, "sync:x", me)
    assert locks.acquire(conn, "sync:x", me)  # re-entrant for the same owner
    # a live process elsewhere (another host) holds it: refused
    assert locks.acquire(conn, "sync:y", "otherhost:1")
    assert not locks.acquire(conn, "sync:y", me)
    assert locks.holder(conn, "sync:y") == "otherhost:1"
    locks.release(conn, "sync:x", me)
    assert locks.holder(conn, "sync:x") is None


def test_expired_lock_is_taken_over(tmp_path: Path) -> None:
    conn = _conn(tmp_path)
    assert locks.acquire(conn, "sync:x", "otherhost:1", ttl=timedelta(seconds=-1))
    assert locks.holder(conn, "sync:x") is None
    assert locks.acquire(conn, "sync:x", locks.default_owner())


def test_lock_of_a_dead_local_process_is_stale(tmp_path: Path) -> None:
    conn = _conn(tmp_path)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    owner = f"{locks.default_owner().rpartition(':')[0]}:{dead.stdout.strip()}"
    assert locks.acquire(conn, "sync:x", owner)
    assert locks.acquire(conn, "sync:x", locks.default_owner())
