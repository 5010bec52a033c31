"""The embedded backend's page queries (`search.fts_page`) give the pages of the full sort.

Each page is checked against one query that sorts every match (the definition of the order:
bm25 then key, or date then key), over documents made so that every path is taken: scores
tied across a page's end (and, with a slack of 1, past the matches the first read holds), the
date index walked for a common word, the join for a rare one, the ids of a sender's documents.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from search import fts_page
from search.base import IndexDoc, Sort
from search.fts_sql import BM25, build_plan
from search.persons import resolve_query
from search.query import parse_query
from search.sqlite_fts import SqliteFtsBackend

START = datetime(2010, 1, 1, tzinfo=UTC)


def _docs() -> list[IndexDoc]:
    rng = random.Random(14)
    docs = []
    for number in range(60):
        words = ["common"] * (1 + number % 4) + ["filler"] * (number % 7)
        if number % 20 == 0:
            words.append("rare")
        if number >= 40:  # twenty copies of one text: one bm25 score
            words = ["common", "twin"]
        docs.append(
            IndexDoc(
                key=f"k{rng.randrange(10**6):06d}-{number}",
                message_id=f"<{number}@example.org>",
                lists=("alpha",) if number % 3 else ("beta",),
                thread_id=f"t{number % 9}",
                from_name="Same Sender" if number >= 40 else f"Sender {number}",
                from_addr="same@example.org" if number >= 40 else f"s{number}@example.org",
                subject="twin" if number >= 40 else f"message {number}",
                date=None if number % 11 == 5 else START + timedelta(days=rng.randrange(400)),
                body_own=" ".join(words),
                body_quoted="",
            )
        )
    rng.shuffle(docs)
    return docs


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> SqliteFtsBackend:
    path = tmp_path_factory.mktemp("fts-page") / "search-fts.db"
    backend = SqliteFtsBackend(Path(path))
    backend.index(_docs())
    return backend


def _full_order(path: Path, query: str, sort: Sort) -> list[str]:
    plan = build_plan(resolve_query(parse_query(query), None))
    order = {
        "relevance": f"{BM25}, d.key",
        "date": "d.date DESC NULLS LAST, d.key",
        "date_asc": "d.date ASC NULLS LAST, d.key",
    }[sort]
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            f"SELECT d.key FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?"
            f" AND {plan.where} ORDER BY {order}",
            (plan.match, *plan.params),
        ).fetchall()
    finally:
        conn.close()
    return [str(key) for (key,) in rows]


@pytest.mark.parametrize(
    ("slack", "chunk", "deep", "every", "sample"),
    [
        (fts_page._SLACK, fts_page._CHUNK, fts_page._DEEP, fts_page._EVERY, 16),
        (1, 7, fts_page._DEEP, fts_page._EVERY, 16),
        (1, 7, fts_page._DEEP, fts_page._EVERY, 1),  # every phrase of a few: one pass
        (1, 7, fts_page._DEEP, 0, 16),
        (1, 7, 0, 0, 16),
    ],
)
@pytest.mark.parametrize("sort", ["relevance", "date", "date_asc"])
@pytest.mark.parametrize(
    "query",
    [
        "common",
        "twin",
        "rare",
        "common filler",
        "common list:alpha",
        "twin -rare",
        "common after:2010-06-01",
        "common before:2010-09-01 from:same@example.org",  # senders, many matches: their ids
        'twin from:"same sender"',
        "rare from:s20@example.org",  # few matches: the rows
        '"common twin"',  # a phrase: twenty tied matches
        '"common filler"',  # a phrase of many matches
        '"common filler" OR twin',
        '"common rare"',  # a phrase of one match
    ],
)
@pytest.mark.parametrize("limit", [1, 3, 7, 20])
def test_pages_are_the_full_order_cut(
    backend: SqliteFtsBackend,
    query: str,
    sort: Sort,
    limit: int,
    slack: int,
    chunk: int,
    deep: int,
    every: int,
    sample: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # slack 1: the twenty tied scores of "twin" run past what the first read holds; chunks
    # of 7: a page's rows and keys are read in several statements; deep 0: every relevance
    # page is sorted by SQLite (`_sorted`); every 0: no page reads all its matches at once
    monkeypatch.setattr(fts_page, "_EVERY", every)
    monkeypatch.setattr(fts_page, "_SLACK", slack)
    monkeypatch.setattr(fts_page, "_CHUNK", chunk)
    monkeypatch.setattr(fts_page, "_DEEP", deep)
    monkeypatch.setattr(fts_page, "_SAMPLE", sample, raising=False)  # 1: the phrase's count
    expected = _full_order(backend.path, query, sort)
    assert expected  # every query of the list matches
    pages: list[str] = []
    offset = 0
    while True:
        result = backend.search(query, sort=sort, limit=limit, offset=offset)
        assert result.total == len(expected)
        pages += [hit.key for hit in result.hits]
        offset += limit
        if result.next_cursor is None:
            break
    assert pages == expected


def test_a_deep_page_is_sorted_by_sqlite(
    backend: SqliteFtsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `_DEEP` matches, no key is read for every match up to the page (the cursor's
    offset is the reader's: what Python holds must not grow with it)."""
    expected = _full_order(backend.path, "common", "relevance")
    monkeypatch.setattr(fts_page, "_DEEP", 10)

    def no_keys(conn: sqlite3.Connection, ids: list[int]) -> dict[int, bytes]:
        raise AssertionError(f"keys of {len(ids)} matches read for a deep page")

    monkeypatch.setattr(fts_page, "_keys", no_keys)
    deep = backend.search("common", limit=5, offset=len(expected) - 5)
    assert [hit.key for hit in deep.hits] == expected[-5:]
    with pytest.raises(AssertionError, match="keys of"):  # a shallow page still reads them
        backend.search("common", limit=5, offset=0)


def test_a_few_matches_are_scored_once_whatever_their_ties(
    backend: SqliteFtsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # slack 1: the twenty tied scores of "twin" run past the best matches a first read holds
    monkeypatch.setattr(fts_page, "_SLACK", 1)
    seen: list[str] = []
    backend._conn.set_trace_callback(seen.append)
    try:
        hits = backend.search("twin", limit=3).hits
    finally:
        backend._conn.set_trace_callback(None)
    assert [hit.key for hit in hits] == _full_order(backend.path, "twin", "relevance")[:3]
    assert sum(1 for sql in seen if "bm25(" in sql) == 1


@pytest.mark.parametrize(
    ("query", "sort", "passes"),
    [
        ("common after:2010-06-01", "relevance", 1),
        ("common list:alpha", "relevance", 1),
        ("common from:same@example.org", "relevance", 2),  # the words' count, then the ids
        ("common from:same@example.org", "date", 2),
        ("common from:same@example.org", "date_asc", 2),
        ('"common twin"', "relevance", 1),
        ('"common rare"', "date", 1),  # (twenty by date: the date index is walked)
    ],
)
def test_a_count_that_costs_a_pass_is_taken_from_the_page(
    backend: SqliteFtsBackend,
    query: str,
    sort: Sort,
    passes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The matches a filter keeps, and a phrase's few matches, are counted by the pass that
    makes their page (a window), not by a pass of their own over the matches (a sender's
    filter first counts the words' matches, to choose between its ids and the join)."""
    monkeypatch.setattr(fts_page, "_SAMPLE", 1, raising=False)  # the phrase's exact count
    expected = _full_order(backend.path, query, sort)
    seen: list[str] = []
    backend._conn.set_trace_callback(seen.append)
    try:
        result = backend.search(query, sort=sort, limit=3)
    finally:
        backend._conn.set_trace_callback(None)
    assert result.total == len(expected)
    assert [hit.key for hit in result.hits] == expected[:3]
    matching = [sql for sql in seen if "MATCH" in sql and "rowid >" not in sql]  # no probe
    assert len(matching) == passes, matching


@pytest.mark.parametrize("query", ["common from:same@example.org", 'twin from:"same sender"'])
def test_a_senders_page_by_date_reads_the_matches_among_their_documents(
    backend: SqliteFtsBackend, query: str
) -> None:
    # the words match most documents: a date page takes the matches among the sender's
    # documents as its set, not every match of the words (nor a docs row for each)
    seen: list[str] = []
    backend._conn.set_trace_callback(seen.append)
    try:
        keys = [hit.key for hit in backend.search(query, sort="date", limit=5).hits]
    finally:
        backend._conn.set_trace_callback(None)
    assert keys == _full_order(backend.path, query, "date")[:5]
    (page,) = [sql for sql in seen if "NULLS LAST" in sql]  # the one ordered by date
    assert "+fts.rowid IN" in page


def test_tied_scores_cross_page_ends(backend: SqliteFtsBackend) -> None:
    # the corpus has what the tie-break is for: twenty matches of "twin" with one score
    scores = [hit.score for hit in backend.search("twin", limit=100).hits]
    assert len(scores) == 20
    assert len(set(scores)) == 1


def test_relevance_scores_are_bm25(backend: SqliteFtsBackend) -> None:
    hits = backend.search("common", limit=100).hits
    conn = sqlite3.connect(backend.path)
    try:
        rows = dict(
            conn.execute(
                f"SELECT d.key, {BM25} FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?",
                ('"common"',),
            ).fetchall()
        )
    finally:
        conn.close()
    assert {hit.key: hit.score for hit in hits} == {key: -score for key, score in rows.items()}
