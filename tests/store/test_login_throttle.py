"""Login throttling in the store (issue 11): the delay rule, the keys, and that parallel
attempts (several gunicorn workers and threads) get no more free attempts than serial ones."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from store import login_throttle
from store.login_throttle import Limits
from store.store import Store

NOW = 1_750_000_000.0
LIMITS = Limits(free_attempts=5, max_delay=900.0)


def test_delay_doubles_up_to_the_maximum() -> None:
    assert [login_throttle.delay_after(n, LIMITS) for n in range(5)] == [0.0] * 5
    assert [login_throttle.delay_after(n, LIMITS) for n in range(5, 10)] == [1, 2, 4, 8, 16]
    assert login_throttle.delay_after(15, LIMITS) == 900.0
    assert login_throttle.delay_after(10_000, LIMITS) == 900.0


def test_keys() -> None:
    assert login_throttle.account_key("  Alice@Example.org ") == "alice@example.org"
    assert len(login_throttle.account_key("x" * 500)) == 64
    assert login_throttle.address_key("192.0.2.7") == "192.0.2.7"
    assert login_throttle.address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert login_throttle.address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert login_throttle.address_key("not an address") == "not an address"


def test_parallel_attempts_get_only_the_free_ones(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()

    def one(i: int) -> bool:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            attempt = login_throttle.begin(conn, "alice", f"192.0.2.{i}", now=NOW, limits=LIMITS)
        finally:
            conn.close()
        return not attempt.refused

    with ThreadPoolExecutor(16) as pool:
        allowed = list(pool.map(one, range(40)))
    assert sum(allowed) == LIMITS.free_attempts


def test_counts_are_forgotten_after_a_quiet_day(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    try:
        for _ in range(8):
            login_throttle.begin(store.conn, "alice", "192.0.2.1", now=NOW, limits=LIMITS)
        assert login_throttle.begin(
            store.conn, "alice", "192.0.2.9", now=NOW, limits=LIMITS
        ).refused
        later = NOW + LIMITS.forget_after + 1
        fresh = login_throttle.begin(store.conn, "alice", "192.0.2.1", now=later, limits=LIMITS)
        assert not fresh.refused and fresh.account_failures == 1 and fresh.address_failures == 1
    finally:
        store.close()
