"""The indexer keeps an index in step with its store, on every backend."""

from __future__ import annotations

from pathlib import Path

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from search import indexer
from search.base import SearchBackend
from store.store import Store


def _store(path: Path, corpus: Path, name: str) -> Store:
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted" / name).glob("*.txt.gz"))]
    store = Store(path / name / "store.db")
    store.add_list(name, "mbox", paths=volumes)
    sync_list(store, name, MboxSource(volumes), workers=1)
    return store


def test_catch_up_is_incremental_and_idempotent(
    backend: SearchBackend, corpus: Path, tmp_path: Path
) -> None:
    store = _store(tmp_path, corpus, "divunal-devel")
    count = store.message_count()
    assert indexer.catch_up(store, backend) == count
    assert backend.count() == count
    assert backend.get_checkpoint() == store.change_seq()
    assert indexer.catch_up(store, backend) == 0
    store.close()


def test_an_index_built_from_another_store_is_rebuilt(
    backend: SearchBackend, corpus: Path, tmp_path: Path
) -> None:
    first = _store(tmp_path, corpus, "divunal-devel")
    second = _store(tmp_path, corpus, "reality")
    indexer.catch_up(first, backend)
    assert backend.search("list:divunal-devel", limit=0).total == first.message_count()
    # a recreated data directory (or a shared cluster): the checkpoint means nothing here
    indexer.catch_up(second, backend)
    assert backend.search("list:divunal-devel", limit=0).total == 0
    assert backend.search("list:reality", limit=0).total == second.message_count()
    assert backend.get_store_id() == second.store_id != first.store_id
    first.close()
    second.close()
