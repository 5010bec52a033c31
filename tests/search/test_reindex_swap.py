"""Reindexing while searches run: the new index is built beside the live one and swapped in at
once, so a search (from another connection or process, opened before the reindex) always sees
the complete index - never a total between 0 and the real one (issue 11).  Both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from search import indexer
from search.base import IndexDoc, SearchBackend
from search.elastic import ElasticBackend
from search.sqlite_fts import SqliteFtsBackend
from store.store import Store
from tests.conftest import REPO
from tests.search.conftest import ES_URL
from tests.search.test_indexer import _store

QUERY = "list:divunal-devel"

_READER = """
import json, sys, time
from pathlib import Path
from search.factory import open_backend
kind, where, prefix, stop = sys.argv[1:5]
backend = open_backend(kind, Path(where), sys.argv[5], index_prefix=prefix)
totals = []
print("ready", flush=True)
while not Path(stop).exists() or len(totals) < 5:
    totals.append(backend.search(sys.argv[6], limit=1).total)
backend.close()
print(json.dumps(totals), flush=True)
"""


def _reader(backend: SearchBackend) -> SearchBackend:
    """Another connection to the same index (as a web worker holds one)."""
    if isinstance(backend, SqliteFtsBackend):
        return SqliteFtsBackend(backend.path)
    assert isinstance(backend, ElasticBackend)
    return ElasticBackend(ES_URL, prefix=backend.alias)


def _where(backend: SearchBackend) -> tuple[str, str, str]:
    if isinstance(backend, SqliteFtsBackend):
        return "sqlite", str(backend.path.parent), "unused"
    assert isinstance(backend, ElasticBackend)
    return "elasticsearch", "/nonexistent", backend.alias


def _indexed(backend: SearchBackend, corpus: Path, tmp_path: Path) -> tuple[Store, int]:
    store = _store(tmp_path, corpus, "divunal-devel")
    count = store.message_count()
    assert count > 100
    assert indexer.catch_up(store, backend) == count
    return store, count


def test_searches_see_the_whole_index_at_every_step_of_a_reindex(
    backend: SearchBackend, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, count = _indexed(backend, corpus, tmp_path)
    reader = _reader(backend)
    assert reader.search(QUERY, limit=0).total == count
    seen: list[int] = []
    write = backend.index

    def index_then_search(docs: Iterable[IndexDoc]) -> int:
        written = write(docs)
        seen.append(reader.search(QUERY, limit=0).total)  # after every batch of the rebuild
        return written

    monkeypatch.setattr(backend, "index", index_then_search)
    assert indexer.rebuild(store, backend, batch=20) == count
    assert len(seen) >= count // 20
    assert set(seen) == {count}
    assert reader.search(QUERY, limit=0).total == count == backend.count()
    assert backend.get_checkpoint() == store.change_seq()
    reader.close()
    store.close()


def test_a_reader_process_never_sees_a_partial_total(
    backend: SearchBackend, corpus: Path, tmp_path: Path
) -> None:
    store, count = _indexed(backend, corpus, tmp_path)
    stop = tmp_path / "stop"
    kind, where, prefix = _where(backend)
    process = subprocess.Popen(
        [sys.executable, "-c", _READER, kind, where, prefix, str(stop), ES_URL, QUERY],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        for _ in range(2):
            assert indexer.rebuild(store, backend, batch=20) == count
        stop.touch()
        out, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    totals = json.loads(out)
    assert len(totals) >= 5
    assert set(totals) == {count}
    store.close()


def test_an_interrupted_rebuild_leaves_the_live_index(
    backend: SearchBackend, corpus: Path, tmp_path: Path
) -> None:
    store, count = _indexed(backend, corpus, tmp_path)
    backend.clear()  # a reindex starts and its process dies before the swap
    backend.index([])
    reopened = _reader(backend)
    assert reopened.search(QUERY, limit=0).total == count
    assert reopened.get_checkpoint() == store.change_seq()
    assert indexer.rebuild(store, reopened, batch=500) == count  # the next reindex starts anew
    assert reopened.search(QUERY, limit=0).total == count == reopened.count()
    reopened.close()
    store.close()


def test_reindex_of_an_empty_store_swaps_in_an_empty_index(
    backend: SearchBackend, tmp_path: Path
) -> None:
    backend.index([IndexDoc("k", "<k@x>", ("l",), "t", "", "a@x", "s", None, "reactor", "")])
    store = Store(tmp_path / "empty" / "store.db")
    assert indexer.rebuild(store, backend) == 0
    assert backend.search("reactor").total == 0 and backend.count() == 0
    store.close()
