"""A purge made in the web UI while a sync's index catch-up is writing a page it read before the
purge (issue 14, CL2): the purged text must not come back into the index, and the catch-up must
not then find the index out of step and rebuild it whole (minutes at a million messages).

The race is played in one process: the "web" is a second store connection and a second index
connection; the purge and its index refresh run at the moment the catch-up has read its page
(`changed_since`) or is about to write it (`index`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from search import indexer
from search.base import IndexOutOfStepError
from search.sqlite_fts import SqliteFtsBackend
from store import removals, superseded
from store.store import Store

SECRET = "zanzibar"


def _mbox(path: Path) -> None:
    path.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n"
            + f"From: p{n}@example.org\nMessage-ID: <m{n}@example.org>\nSubject: topic {n}\n"
            f"Date: Mon, 1 Jan 2001 00:0{n}:00 +0000\n\n"
            f"{SECRET + ' merger' if n == 1 else 'plain'} words {n}\n\n".encode()
            for n in range(3)
        )
    )


def _terms(data_dir: Path) -> set[str]:
    conn = sqlite3.connect(data_dir / "search-fts.db")
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, row)")
        return {str(row[0]) for row in conn.execute("SELECT term FROM temp.vocab")}
    finally:
        conn.close()


@pytest.fixture
def synced(tmp_path: Path, data_dir: Path) -> Path:
    box = tmp_path / "a.mbox"
    _mbox(box)
    for args in (["lists", "add", "a", "--mbox", str(box)], ["sync", "--workers", "1"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
    assert SECRET in _terms(data_dir)
    return data_dir


@pytest.fixture
def no_rebuild(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rebuilds: list[str] = []
    real = indexer.rebuild

    def counted(store: Store, backend: Any, **kwargs: Any) -> int:
        rebuilds.append(backend.name)
        return real(store, backend, **kwargs)

    monkeypatch.setattr(indexer, "rebuild", counted)
    return rebuilds


def _web_purge(data_dir: Path) -> Callable[[], None]:
    """The web UI's purge of m1 and its index refresh, on its own connections."""

    def purge() -> None:
        web = Store(data_dir / "store.db")
        backend = SqliteFtsBackend(data_dir / "search-fts.db")
        try:
            (key,) = removals.keys_for_message_id(web.conn, "m1@example.org")
            removals.remove(web.conn, "message", key, [key], reason="r", actor="web", purge=True)
            assert indexer.refresh(web, backend, [key]) == 1
        finally:
            backend.close()
            web.close()

    return purge


def _once(action: Callable[[], None]) -> Iterator[None]:
    action()
    while True:
        yield


def _catch_up_everything(data_dir: Path, store: Store, backend: SqliteFtsBackend) -> int:
    backend.set_checkpoint(0)  # every message to be written again, as after a rethread
    return indexer.catch_up(store, backend)


def _check(data_dir: Path, store: Store, backend: SqliteFtsBackend, rebuilds: list[str]) -> None:
    assert rebuilds == []
    assert SECRET not in _terms(data_dir)
    assert "merger" not in _terms(data_dir)
    (key,) = removals.keys_for_message_id(store.conn, "m1@example.org")
    assert backend._ids(backend._conn, [key]) == {}
    assert superseded.count(store.conn) == 0  # the purge's promise: no copy left in the store
    assert indexer.catch_up(store, backend) == 0  # the next catch-up: nothing to do
    assert rebuilds == []


def test_a_purge_after_the_page_was_read_is_not_written_back(
    synced: Path, monkeypatch: pytest.MonkeyPatch, no_rebuild: list[str]
) -> None:
    """The purge lands while the catch-up builds the documents of the page it read."""
    store = Store(synced / "store.db")
    backend = SqliteFtsBackend(synced / "search-fts.db")
    real = indexer.to_doc
    purges = _once(_web_purge(synced))

    def purge_then_build(*args: Any, **kwargs: Any) -> Any:
        next(purges)
        return real(*args, **kwargs)

    written: list[str] = []
    real_index = backend.index

    def index(docs: Any) -> int:
        docs = list(docs)
        written.extend(doc.key for doc in docs)
        return real_index(docs)

    monkeypatch.setattr(indexer, "to_doc", purge_then_build)
    monkeypatch.setattr(backend, "index", index)
    try:
        _catch_up_everything(synced, store, backend)
        _check(synced, store, backend, no_rebuild)
        (key,) = removals.keys_for_message_id(store.conn, "m1@example.org")
        assert len(written) == 2 and key not in written  # never written back
    finally:
        backend.close()
        store.close()


def test_a_purge_while_the_page_is_being_written_is_taken_out_again(
    synced: Path, monkeypatch: pytest.MonkeyPatch, no_rebuild: list[str]
) -> None:
    """The purge lands between the catch-up's last look at the store and its index write."""
    store = Store(synced / "store.db")
    backend = SqliteFtsBackend(synced / "search-fts.db")
    real = backend.index
    purges = _once(_web_purge(synced))

    def purge_then_write(docs: Any) -> int:
        docs = list(docs)
        if docs:
            next(purges)
        return real(docs)

    monkeypatch.setattr(backend, "index", purge_then_write)
    try:
        _catch_up_everything(synced, store, backend)
        _check(synced, store, backend, no_rebuild)
    finally:
        backend.close()
        store.close()


def test_the_web_refresh_never_rebuilds_an_index_out_of_step(
    synced: Path, no_rebuild: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """An index that cannot forget a document any more is left to the sync or `reindex`
    (a whole rebuild inside a web request would take minutes at 1M): the refresh says so."""
    store = Store(synced / "store.db")
    backend = SqliteFtsBackend(synced / "search-fts.db")
    try:
        (key,) = removals.keys_for_message_id(store.conn, "m1@example.org")
        removals.remove(store.conn, "message", key, [key], reason="r", actor="web", purge=True)
        # the index out of step: m1's indexed text is nowhere in the store any more
        store.conn.execute("DELETE FROM superseded_bodies")
        with pytest.raises(IndexOutOfStepError):
            indexer.refresh(store, backend, [key], may_rebuild=False)
        assert no_rebuild == []
        assert "left to the next sync" in caplog.text
        # the sync's catch-up rebuilds it, as before
        indexer.catch_up(store, backend)
        assert no_rebuild == ["sqlite"]
        assert SECRET not in _terms(synced)
    finally:
        backend.close()
        store.close()


def test_a_purge_forgetting_the_kept_body_in_between_is_taken_out_all_the_same(
    synced: Path, monkeypatch: pytest.MonkeyPatch, no_rebuild: list[str]
) -> None:
    """The purge's refresh drops its message's kept bodies after its delete: when that lands
    between the catch-up keeping the body again and deleting its document, the catch-up keeps
    it once more and deletes again (the refresh drops them once)."""
    store = Store(synced / "store.db")
    backend = SqliteFtsBackend(synced / "search-fts.db")
    real_index, real_delete = backend.index, backend.delete
    purges = _once(_web_purge(synced))
    late: list[int] = []

    def purge_then_write(docs: Any) -> int:
        docs = list(docs)
        if docs:
            next(purges)
        return real_index(docs)

    def forget_then_delete(keys: Any) -> int:
        keys = list(keys)
        if not late and superseded.count(store.conn):  # the refresh's forget, late
            late.append(superseded.forget(store.conn, keys))
        return real_delete(keys)

    monkeypatch.setattr(backend, "index", purge_then_write)
    monkeypatch.setattr(backend, "delete", forget_then_delete)
    try:
        _catch_up_everything(synced, store, backend)
        assert late == [1]
        _check(synced, store, backend, no_rebuild)
    finally:
        backend.close()
        store.close()
