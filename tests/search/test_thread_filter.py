"""``thread:ID`` filters by thread on both backends; ``thread:`` without an id and a double
exclusion are refused with a plain reason (issue 11 review)."""

from __future__ import annotations

import pytest

from search.base import SearchBackend, SearchQueryError
from search.query import parse_query


def _keys(backend: SearchBackend, query: str) -> set[str]:
    return {hit.key for hit in backend.search(query, limit=100).hits}


def test_thread_filter_finds_the_thread_only(indexed: SearchBackend) -> None:
    assert _keys(indexed, "thread:thread-m01") == {"m01"}
    assert _keys(indexed, "thread:THREAD-m01 OR thread:thread-m02") == {"m01", "m02"}
    assert _keys(indexed, "deferred thread:thread-m02") == {"m02"}
    assert _keys(indexed, "reactor thread:thread-m02") == set()
    assert indexed.search("thread:tnosuchthread").total == 0


@pytest.mark.parametrize("query", ["thread:", "thread:  ", "deferred thread:"])
def test_thread_without_an_id_is_refused(indexed: SearchBackend, query: str) -> None:
    with pytest.raises(SearchQueryError, match=r"^thread: needs an id$"):
        indexed.search(query)


@pytest.mark.parametrize("query", ["NOT NOT deferred", "deferred -NOT reactor", "a NOT -b"])
def test_a_double_exclusion_says_so(query: str) -> None:
    with pytest.raises(SearchQueryError, match="a term can be excluded only once"):
        parse_query(query)


def test_a_dangling_exclusion_keeps_its_reason() -> None:
    with pytest.raises(SearchQueryError, match="nothing to exclude"):
        parse_query("deferred NOT")
