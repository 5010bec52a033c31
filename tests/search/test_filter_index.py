"""The embedded backend's filter indexes (issue 14, `search.sqlite_schema.FILTER_INDEX`): a
search with filters reads the narrow index instead of the wide ``docs`` rows, with the same
answers; an index built before them gets them when opened; a rebuilt one has them too."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from search.base import IndexDoc, PersonRef, SearchResult, Sort
from search.sqlite_fts import SqliteFtsBackend
from search.sqlite_schema import FILTER_INDEX
from tests.search.conftest import DictPersons

START = datetime(2008, 1, 1, tzinfo=UTC)
QUERIES = [
    "common",
    "common list:alpha",
    "common list:beta after:2009-01-01",
    "common before:2009-06-01",
    "rare OR filler after:2008-06-01",
    "common -rare list:alpha",
    "person:p3 common",
    "list:alpha after:2008-09-01",
    "list:beta",
    "list:alpha -rare",
    "from:s7@example.org common",
    "thread:t4 common",
]


def _docs() -> list[IndexDoc]:
    docs = []
    for number in range(90):
        words = ["common"] * (1 + number % 3) + ["filler"] * (number % 5)
        if number % 13 == 0:
            words.append("rare")
        docs.append(
            IndexDoc(
                key=f"k{(number * 37) % 90:03d}",
                message_id=f"<{number}@example.org>",
                lists=("alpha",) if number % 3 else ("alpha", "beta") if number % 2 else ("beta",),
                thread_id=f"t{number % 7}",
                from_name=f"Sender {number % 11}",
                from_addr=f"s{number % 11}@example.org",
                subject=f"message {number}",
                date=None if number % 17 == 4 else START + timedelta(days=(number * 11) % 700),
                body_own=" ".join(words),
                body_quoted="",
                private=number % 10 == 3,
                identity=1 + number % 6,
            )
        )
    return docs


PERSONS = DictPersons({number: PersonRef(f"p{number}", f"P {number}") for number in range(1, 7)})


def _backend(path: Path) -> SqliteFtsBackend:
    backend = SqliteFtsBackend(path)
    backend.index(_docs())
    return backend


def _answers(backend: SqliteFtsBackend) -> list[SearchResult]:
    found = []
    sorts: tuple[Sort, ...] = ("relevance", "date", "date_asc")
    for query in QUERIES:
        for sort in sorts:
            for private in (False, True):
                found.append(
                    backend.search(
                        query,
                        sort=sort,
                        limit=7,
                        offset=2,
                        facets=True,
                        include_private=private,
                        persons=PERSONS,
                    )
                )
    return found


@contextmanager
def _statements(conn: sqlite3.Connection) -> Iterator[list[str]]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def test_filtered_searches_read_the_filter_index_with_the_same_answers(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "search-fts.db")
    try:
        conn = backend._conn
        with _statements(conn) as seen:
            with_index = _answers(backend)
        assert any(f"INDEXED BY {FILTER_INDEX}" in sql for sql in seen)
        conn.execute(f"DROP INDEX {FILTER_INDEX}")  # the searches read the docs rows again
        with _statements(conn) as seen:
            without = _answers(backend)
        assert not any("INDEXED BY" in sql for sql in seen)
        assert with_index == without
        assert sum(result.total for result in with_index) > 0
    finally:
        backend.close()


def test_an_older_index_gets_the_filter_indexes_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "search-fts.db"
    backend = _backend(path)
    expected = _answers(backend)
    backend.close()
    conn = sqlite3.connect(path)
    for name in ("docs_filter", "docs_date", "docs_private"):
        conn.execute(f"DROP INDEX {name}")
    conn.execute("CREATE INDEX docs_date ON docs (date, key)")  # schema 5 as first written
    conn.execute("CREATE INDEX docs_private ON docs (id) WHERE private = 1")
    conn.commit()
    conn.close()
    backend = SqliteFtsBackend(path)
    try:
        indexes = dict(
            backend._conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs'"
            ).fetchall()
        )
        assert FILTER_INDEX in indexes
        assert "lists" in indexes["docs_date"]
        assert "private" in indexes["docs_private"].split("WHERE")[0]
        assert _answers(backend) == expected
    finally:
        backend.close()


def test_a_rebuilt_index_is_read_through_its_own_filter_index(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "search-fts.db")
    try:
        expected = _answers(backend)
        backend.clear()
        backend.index(_docs())
        backend.finish_rebuild()
        (name,) = backend._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'docs'"
            " AND name GLOB 'docs_filter*'"
        ).fetchone()
        assert name != FILTER_INDEX  # a rebuilt index's names carry their build's tag
        with _statements(backend._conn) as seen:
            assert _answers(backend) == expected
        assert any(f"INDEXED BY {name}" in sql for sql in seen)
    finally:
        backend.close()


@pytest.mark.parametrize("private", [False, True])
def test_whether_any_message_is_private_is_answered_by_the_private_index(
    tmp_path: Path, private: bool
) -> None:
    backend = SqliteFtsBackend(tmp_path / "search-fts.db")
    try:
        docs = [doc for doc in _docs() if private or not doc.private]
        backend.index(docs)
        conn = backend._conn
        sql = "SELECT 1 FROM docs WHERE private = 1 LIMIT 1"  # as sqlite_fts._public_only
        plan = " ".join(str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "docs_private" in plan
        assert (conn.execute(sql).fetchone() is not None) is private
    finally:
        backend.close()


def test_a_page_of_many_filtered_documents_walks_the_date_index(tmp_path: Path) -> None:
    backend = _backend(tmp_path / "search-fts.db")
    try:
        with _statements(backend._conn) as seen:
            walked = backend.search("list:beta", sort="date", limit=5, offset=3)
        assert walked.total * walked.total > 8 * 90  # the page fills early: the walk
        (page,) = [sql for sql in seen if "ORDER BY d.date" in sql]
        assert "INDEXED BY docs_date" in page
        backend._conn.execute(f"DROP INDEX {FILTER_INDEX}")  # an index not upgraded yet
        assert backend.search("list:beta", sort="date", limit=5, offset=3) == walked
    finally:
        backend.close()


def test_a_page_by_date_of_a_few_filtered_matches_filters_through_the_index(
    tmp_path: Path,
) -> None:
    backend = _backend(tmp_path / "search-fts.db")
    try:
        with _statements(backend._conn) as seen:
            few = backend.search("rare list:beta", sort="date", limit=5)
        assert 0 < few.total and few.total * few.total <= 5 * 90  # no walk: the few matches
        (page,) = [sql for sql in seen if "ORDER BY d.date" in sql]
        assert f"INDEXED BY {FILTER_INDEX}" in page
        backend._conn.execute(f"DROP INDEX {FILTER_INDEX}")
        assert backend.search("rare list:beta", sort="date", limit=5) == few
    finally:
        backend.close()
