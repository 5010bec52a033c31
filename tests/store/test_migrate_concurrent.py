"""Several processes may open an older store at once (a read-only open migrates it,
`store.store`): a migration runs once, the openers that waited find it done
(`store.schema.migrate` reads the version again under the write lock)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from store import schema
from store.schema import MIGRATIONS, migrate
from store.store import Store
from tests.store.test_content import BODY, RAW, _old_store


def _version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return str(value)
    finally:
        conn.close()


def test_a_store_migrated_by_another_opener_meanwhile_is_not_migrated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    _old_store(path).close()
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None)
    real = schema.checked_version
    seen: list[int] = []

    def read_then_lose_the_race(conn: sqlite3.Connection) -> int:
        version = real(conn)
        if conn is second and not seen:  # `second` saw 14; `first` migrates before it acts
            seen.append(version)
            assert migrate(first) == len(MIGRATIONS)
        return version

    monkeypatch.setattr(schema, "checked_version", read_then_lose_the_race)
    try:
        assert migrate(second) == len(MIGRATIONS)
    finally:
        first.close()
        second.close()
    assert seen == [14]
    assert _version(path) == str(len(MIGRATIONS))


def test_readers_opening_an_older_store_together_all_read_it(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _old_store(path).close()
    start = threading.Barrier(4)
    got: list[object] = []

    def read() -> None:
        start.wait()
        try:
            store = Store(path, readonly=True)
            try:
                got.append(store.raw_bytes("k1"))
            finally:
                store.close()
        except Exception as exc:  # noqa: BLE001 - the test reports what each reader got
            got.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [RAW] * 4
    store = Store(path, readonly=True)
    try:
        found = store.get_message("k1")
        assert found is not None and found.body == BODY
    finally:
        store.close()


def test_migration_15_counts_the_characters_of_a_body_holding_a_nul(tmp_path: Path) -> None:
    """A body may hold a NUL (the parser keeps it): its stored length is Python's, as a new
    store's (`store.content.pack`), not SQLite's length(), which stops at the NUL."""
    path = tmp_path / "store.db"
    conn = _old_store(path)
    conn.execute("UPDATE messages SET body = ? WHERE key = 'k2'", ("ab\x00cdef",))
    conn.commit()
    assert migrate(conn) == len(MIGRATIONS)
    row = conn.execute("SELECT body_bytes, body_chars FROM messages WHERE key = 'k2'").fetchone()
    conn.close()
    assert row == (7, 7)
