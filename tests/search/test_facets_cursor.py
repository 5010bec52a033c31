"""Facets and cursor pagination: part of the common search interface."""

from __future__ import annotations

from collections import Counter
from datetime import UTC

from search.base import SearchBackend
from tests.search.conftest import DOCS, PERSONS, DictPersons


def test_facets_count_the_whole_match_set(indexed: SearchBackend) -> None:
    result = indexed.search("list:twisted-python", facets=True, limit=2)
    assert len(result.hits) == 2
    assert ("twisted-python", 13) in result.facets["list"]
    years = result.facets["year"]
    assert [y for y, _ in years] == sorted((y for y, _ in years), reverse=True)
    dated = indexed.search("list:twisted-python after:1970", limit=0).total
    assert sum(count for _, count in years) == dated
    assert "sender" not in result.facets  # no persons to name them: no sender facet
    assert indexed.search("list:twisted-python").facets == {}


def test_facets_follow_the_text_query(indexed: SearchBackend) -> None:
    result = indexed.search("reactor", facets=True, persons=DictPersons(PERSONS))
    assert sum(count for _, count in result.facets["sender"]) == result.total
    assert sum(count for _, count in result.facets["list"]) >= result.total


def test_cursor_pages_through_everything_once(indexed: SearchBackend) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        result = indexed.search("list:twisted-python", limit=5, cursor=cursor, sort="date")
        seen.extend(hit.key for hit in result.hits)
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 13
    by_offset = [
        hit.key
        for offset in (0, 5, 10)
        for hit in indexed.search("list:twisted-python", limit=5, offset=offset, sort="date").hits
    ]
    assert seen == by_offset


def test_month_histogram_counts_every_matching_month(indexed: SearchBackend) -> None:
    """The date histogram of the matches: every month with a match (UTC), oldest first."""
    result = indexed.search("list:twisted-python", facets=True, limit=0)
    expected = Counter(
        f"{doc.date.astimezone(UTC):%Y-%m}"
        for doc in DOCS
        if doc.date is not None and "twisted-python" in doc.lists
    )
    assert result.facets["month"] == sorted(expected.items())
    assert ("2014-08", expected["2014-08"]) in result.facets["month"]  # 23:59 UTC on the 31st
    by_year: Counter[str] = Counter()
    for month, count in result.facets["month"]:
        by_year[month[:4]] += count
    assert sorted(by_year.items(), reverse=True) == result.facets["year"]


def test_a_month_of_the_histogram_narrows_to_its_count(indexed: SearchBackend) -> None:
    months = indexed.search("deferred", facets=True, limit=0).facets["month"]
    assert len(months) >= 2
    for month, count in months:
        year, number = (int(part) for part in month.split("-"))
        following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
        narrowed = indexed.search(f"deferred after:{month} before:{following}", facets=True)
        assert (narrowed.total, narrowed.facets["month"]) == (count, [(month, count)])
