"""`SearchBackend.search(hidden=...)` (issue 14, task CL3): the documents of removed messages
an index still holds are left out of the hits, the total, the facets and every page, on both
backends, exactly as if they had been deleted; keys the index does not hold change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from search.base import SearchBackend, SearchResult
from search.fts_hidden import without_keys
from search.fts_sql import FtsPlan
from search.sqlite_fts import SqliteFtsBackend
from tests.search.conftest import PERSONS, DictPersons

HIDDEN = ("m01", "m02", "m05")
QUERIES = ("deferred", "after:1990", "twisted -deferred", "from:exarkun@twistedmatrix.com")


def _search(backend: SearchBackend, query: str, **options: Any) -> SearchResult:
    return backend.search(query, facets=True, limit=100, persons=DictPersons(PERSONS), **options)


def _answer(result: SearchResult) -> tuple[int, list[str], dict[str, list[tuple[str, int]]]]:
    return result.total, sorted(hit.key for hit in result.hits), result.facets


def test_hidden_documents_are_left_out_as_if_deleted(indexed: SearchBackend) -> None:
    hidden = {q: _answer(_search(indexed, q, hidden=(*HIDDEN, "not-indexed"))) for q in QUERIES}
    plain = {q: _answer(_search(indexed, q)) for q in QUERIES}
    assert any(set(HIDDEN) & set(plain[q][1]) for q in QUERIES)  # they were found before
    assert indexed.delete(HIDDEN) == len(HIDDEN)
    for query in QUERIES:
        assert hidden[query] == _answer(_search(indexed, query)), query


def test_more_hidden_keys_than_one_terms_query_holds(indexed: SearchBackend) -> None:
    """A removal the index missed may name more messages than Elasticsearch takes in one
    terms query (`index.max_terms_count`, 65,536 by default: the search failed as unavailable
    until the next sync); the answer is still that of the few indexed among them."""
    many = (*HIDDEN, *(f"not-indexed-{i}" for i in range(70_000)))
    for query in QUERIES[:2]:
        assert _answer(_search(indexed, query, hidden=many)) == _answer(
            _search(indexed, query, hidden=HIDDEN)
        ), query


def test_keys_not_indexed_change_nothing(indexed: SearchBackend) -> None:
    for query in QUERIES:
        expected = _search(indexed, query)
        found = _search(indexed, query, hidden=("not-indexed",))
        assert _answer(found) == _answer(expected)
        assert [h.key for h in found.hits] == [h.key for h in expected.hits]


@pytest.mark.parametrize("sort", ["relevance", "date", "date_asc"])
def test_every_page_leaves_them_out(indexed: SearchBackend, sort: str) -> None:
    """Pages by offset (Elasticsearch: past a result window of 2, walked by search_after)
    and by cursor make up the one-page answer."""
    if hasattr(indexed, "max_window"):
        indexed.max_window = 2
    query = "twisted OR deferred OR release"
    whole = [
        h.key
        for h in indexed.search(query, sort=sort, limit=100, hidden=HIDDEN).hits  # type: ignore[arg-type]
    ]
    assert len(whole) > 4 and not set(HIDDEN) & set(whole)
    assert set(HIDDEN) & {h.key for h in indexed.search(query, limit=100).hits}
    by_offset: list[str] = []
    for offset in range(0, len(whole), 3):
        page = indexed.search(query, sort=sort, limit=3, offset=offset, hidden=HIDDEN)  # type: ignore[arg-type]
        assert page.total == len(whole)
        by_offset += [h.key for h in page.hits]
    assert by_offset == whole
    by_cursor: list[str] = []
    cursor: str | None = None
    while True:
        page = indexed.search(query, sort=sort, limit=4, cursor=cursor, hidden=HIDDEN)  # type: ignore[arg-type]
        by_cursor += [h.key for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert by_cursor == whole


def test_the_embedded_plan_is_the_same_without_indexed_keys(indexed: SearchBackend) -> None:
    if not isinstance(indexed, SqliteFtsBackend):
        pytest.skip("the embedded backend's plan")
    plan = FtsPlan(match='"deferred"', where="1", params=(), by_sender=True)
    conn = indexed._conn
    assert without_keys(conn, plan, ()) is plan
    assert without_keys(conn, plan, ("not-indexed",)) is plan
    left_out = without_keys(conn, plan, ("m01", "not-indexed"))
    assert left_out.where.startswith("d.id NOT IN (") and not left_out.by_sender
