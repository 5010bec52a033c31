"""A store that is damaged, replaced or exposed: private file modes, damage named with the
remedy (never a raw sqlite3 traceback), and an empty store refused while data of an earlier
store lies beside it."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from search import indexer
from search.sqlite_fts import SqliteFtsBackend
from store import faults, schema
from store.errors import StoreCorruptError, StoreError, StoreFullError, StoreVersionError
from store.store import Store
from tests.conftest import PIPERMAIL

VOLUME = PIPERMAIL / "twisted" / "reality" / "2000-January.txt.gz"  # 8 messages


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    """The umask of most systems (files 0644, directories 0755 unless the code says not)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def synced(data: Path) -> Path:
    """A store of one small list, indexed in `search-fts.db` beside it; returns store.db."""
    store = Store(data / "store.db")
    try:
        store.add_list("reality", "mbox", paths=[str(VOLUME)])
        assert sync_list(store, "reality", MboxSource([str(VOLUME)]), workers=1).clean
        backend = SqliteFtsBackend(data / "search-fts.db")
        try:
            indexer.catch_up(store, backend)
        finally:
            backend.close()
    finally:
        store.close()
    return data / "store.db"


def root_page(path: Path, table: str) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    finally:
        conn.close()
    return int(root), int(page_size)


def overwrite_page(path: Path, table: str) -> None:
    """Garbage over the first page of `table` (a disk that wrote junk)."""
    root, page_size = root_page(path, table)
    with path.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)


def damage_middle_leaves(path: Path, table: str, count: int = 2) -> list[int]:
    """Junk over `count` leaf pages of `table` in the middle of the file (a disk that lost a
    few pages): queries that do not read those rows still work.  Returns the row numbers
    (0-based, in rowid order) that lay on them."""
    conn = sqlite3.connect(path)
    try:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        leaves = conn.execute(
            "SELECT pageno, ncell FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path",
            (table,),
        ).fetchall()
    finally:
        conn.close()
    assert len(leaves) > count + 1, f"{table} has too few pages to damage the middle ones"
    first = (len(leaves) - count) // 2
    rows: list[int] = []
    with path.open("r+b") as fh:
        for index, (page, _cells) in enumerate(leaves):
            if first <= index < first + count:
                start = sum(cells for _page, cells in leaves[:index])
                rows.extend(range(start, start + leaves[index][1]))
                fh.seek((page - 1) * page_size)
                fh.write(b"\x5a" * page_size)
    return rows


def set_schema_version(path: Path, version: int) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    conn.close()


# -- 1. file modes -------------------------------------------------------------------------


def test_new_store_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data / "store.db")
    try:
        store.add_list("reality", "mbox", paths=[str(VOLUME)])  # a write: -wal and -shm exist
        assert mode(data) == 0o700
        for name in ("store.db", "store.db-wal", "store.db-shm"):
            assert mode(data / name) == 0o600, name
    finally:
        store.close()


def test_an_exposed_store_is_tightened_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    path.chmod(0o644)
    store = Store(path)
    try:
        store.add_list("reality", "mbox", paths=[str(VOLUME)])
        for name in ("store.db", "store.db-wal", "store.db-shm"):
            assert mode(tmp_path / name) == 0o600, name
    finally:
        store.close()


def test_search_index_files_are_private(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    backend = SqliteFtsBackend(tmp_path / "search-fts.db")
    try:
        store.add_list("reality", "mbox", paths=[str(VOLUME)])
        assert sync_list(store, "reality", MboxSource([str(VOLUME)]), workers=1).clean
        assert indexer.catch_up(store, backend) == 8
        for name in ("search-fts.db", "search-fts.db-wal", "search-fts.db-shm"):
            assert mode(tmp_path / name) == 0o600, name
    finally:
        backend.close()
        store.close()


# -- 2. damage ---------------------------------------------------------------------------


def assert_names_damage(exc: StoreCorruptError, path: Path) -> None:
    text = str(exc)
    assert str(path) in text
    assert "backup" in text and "listarchive check" in text


@pytest.mark.parametrize("readonly", [False, True], ids=["writer", "reader"])
def test_a_truncated_store_is_named_damaged(tmp_path: Path, readonly: bool) -> None:
    path = synced(tmp_path)
    os.truncate(path, path.stat().st_size // 2)
    with pytest.raises(StoreCorruptError) as caught:
        Store(path, readonly=readonly)
    assert_names_damage(caught.value, path)
    assert "malformed" in str(caught.value)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = synced(tmp_path)
    path.write_bytes(b"this is no database, it is a note someone saved here\n" * 100)
    with pytest.raises(StoreCorruptError) as caught:
        Store(path)
    assert_names_damage(caught.value, path)


def test_damage_met_by_a_query_is_classified(tmp_path: Path) -> None:
    """A page of junk is only met when a query reads it: the raw error is classified."""
    path = synced(tmp_path)
    overwrite_page(path, "lists")
    store = Store(path, readonly=True)
    try:
        with pytest.raises(sqlite3.DatabaseError) as caught:
            store.lists()
    finally:
        store.close()
    found = faults.classify(caught.value, path)
    assert isinstance(found, StoreCorruptError)
    assert_names_damage(found, path)
    # a plain programming error is not damage
    assert faults.classify(sqlite3.OperationalError("no such column: nope"), path) is None


def test_a_full_disk_is_classified_for_every_command(tmp_path: Path) -> None:
    """SQLITE_FULL met outside a sync's transaction (any command, the web) says the disk is full."""
    path = tmp_path / "full.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 3")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    conn.close()
    found = faults.classify(caught.value, path)
    assert isinstance(found, StoreFullError)
    assert str(path) in str(found) and "full" in str(found)


# -- 2. an empty store while data of an earlier store lies beside it ----------------------
# (the search index beside it is checked by `listarchive.app.open_store`: tests/cli/test_check.py)


@pytest.mark.parametrize("how", ["zero-bytes", "missing"])
def test_an_empty_store_beside_its_write_ahead_log_is_refused(tmp_path: Path, how: str) -> None:
    path = tmp_path / "store.db"
    store = Store(path)
    store.add_list("reality", "mbox", paths=[str(VOLUME)])
    wal = (tmp_path / "store.db-wal").read_bytes()  # committed, not yet checkpointed
    store.close()
    if how == "zero-bytes":
        path.write_bytes(b"")
    else:
        path.unlink()
    (tmp_path / "store.db-wal").write_bytes(wal)
    for readonly in (False, True):
        with pytest.raises(StoreCorruptError) as caught:
            Store(path, readonly=readonly)
        text = str(caught.value)
        assert "store.db-wal" in text and "backup" in text
        # nothing was created in its place
        assert not path.exists() if how == "missing" else path.stat().st_size == 0


@pytest.mark.parametrize("how", ["zero-bytes", "missing"])
def test_only_a_writer_that_may_create_makes_a_store(tmp_path: Path, how: str) -> None:
    path = tmp_path / "store.db"
    if how == "zero-bytes":
        path.write_bytes(b"")
    for kwargs in ({"readonly": True}, {"create": False}):
        with pytest.raises(StoreError, match="run `listarchive sync` first"):
            Store(path, **kwargs)
    assert not path.exists() if how == "missing" else path.stat().st_size == 0
    store = Store(path)
    try:
        assert store.lists() == [] and store.store_id
    finally:
        store.close()


# -- 3. a store newer than this program (a downgrade) ---------------------------------------


def test_a_store_with_a_newer_schema_is_refused_by_readers_and_writers(tmp_path: Path) -> None:
    path = synced(tmp_path)
    newer = len(schema.MIGRATIONS) + 1
    set_schema_version(path, newer)
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreVersionError) as caught:
            Store(path, readonly=readonly)
        text = str(caught.value)
        assert str(path) in text
        assert f"version {newer}" in text and f"({len(schema.MIGRATIONS)})" in text
        assert (caught.value.version, caught.value.program) == (newer, len(schema.MIGRATIONS))
    assert path.read_bytes() == before  # nothing written to it
