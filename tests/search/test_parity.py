"""Parity: the embedded index and Elasticsearch answer the same queries with the same messages,
on real corpus mail (the `reality` and `divunal-author` pipermail lists)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from search import indexer
from search.base import SearchBackend
from search.elastic import ElasticBackend
from search.sqlite_fts import SqliteFtsBackend
from store.store import Store
from tests.search.conftest import ES_URL, delete_es_indices

pytestmark = pytest.mark.skipif(
    not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL"
)

# queries whose answer is a set: every backend must return exactly the same messages
SET_QUERIES = [
    "list:reality",
    "list:divunal-author after:2000-01-01",
    "list:reality before:2001-01-01 after:1999-06-01",
    "reality",
    "twisted",
    "spam OR eggs",
    '"regularly scheduled"',
    "glyph -reality",
    "subject:twisted",
    "from:glyph",
    "from:tenth@clockwork.twistedmatrix.com",
    "tenth@clockwork.twistedmatrix.com",
    "http://www.twistedmatrix.com/~agatha/maxwell.html",
    "1.2.0",
    "objects persistence",
    "list:divunal-author -python",
]


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[SearchBackend]]:
    corpus = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
    root = tmp_path_factory.mktemp("parity")
    store = Store(root / "store.db")
    for name in ("reality", "divunal-author"):
        volumes = [str(p) for p in sorted((corpus / "pipermail/twisted" / name).glob("*.txt.gz"))]
        store.add_list(name, "mbox", paths=volumes)
        sync_list(store, name, MboxSource(volumes), workers=1)
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    opened: list[SearchBackend] = [
        SqliteFtsBackend(root / "fts.db"),
        ElasticBackend(ES_URL, prefix=prefix),
    ]
    for backend in opened:
        indexer.rebuild(store, backend)
    store.close()
    yield opened
    for backend in opened:
        backend.close()
    delete_es_indices(prefix)


def _keys(backend: SearchBackend, query: str) -> set[str]:
    result = backend.search(query, limit=1000)
    assert result.total == len(result.hits)
    return {hit.key for hit in result.hits}


@pytest.mark.parametrize("query", SET_QUERIES)
def test_same_messages(backends: list[SearchBackend], query: str) -> None:
    embedded, elastic = (_keys(b, query) for b in backends)
    assert embedded == elastic
    if query.startswith("list:reality"):
        assert embedded


def test_queries_are_not_trivial(backends: list[SearchBackend]) -> None:
    counts = [len(_keys(backends[0], q)) for q in SET_QUERIES]
    assert sum(1 for c in counts if c > 0) >= len(SET_QUERIES) - 2
    assert max(counts) > 100


@pytest.mark.parametrize(
    "query",
    ['"regularly scheduled SPAM"', "maxwell.html agatha"],
)
def test_same_top_result_for_clear_cut_queries(backends: list[SearchBackend], query: str) -> None:
    tops = [b.search(query, limit=1).hits for b in backends]
    assert tops[0] and tops[1]
    assert tops[0][0].key == tops[1][0].key


def test_same_facets_and_date_order(backends: list[SearchBackend]) -> None:
    embedded, elastic = (
        b.search("list:reality", facets=True, limit=50, sort="date") for b in backends
    )
    assert embedded.facets == elastic.facets
    assert [h.key for h in embedded.hits] == [h.key for h in elastic.hits]
