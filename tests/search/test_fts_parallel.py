"""Relevance pages scored in rowid ranges (`search.fts_parallel`) are the pages of one pass.

Each split page is checked against one query that sorts every match (bm25 then key) and
against a backend that scores in one pass, over documents whose tied scores lie on both
sides of every split point, with slacks small enough that a part ends on a tie; the split is
checked to have been taken.  A writer's commit between the search's snapshot and a part's,
and a failing part, give the one pass's answer.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from search import fts_page, fts_parallel
from search.base import IndexDoc, Sort
from search.fts_page import Row
from search.fts_parallel import Pairs, Parts
from search.fts_sql import BM25, FtsPlan, build_plan
from search.persons import resolve_query
from search.query import parse_query
from search.sqlite_fts import SqliteFtsBackend

START = datetime(2010, 1, 1, tzinfo=UTC)


def _doc(number: int, words: list[str], rng: random.Random) -> IndexDoc:
    return IndexDoc(
        key=f"k{rng.randrange(10**6):06d}-{number}",
        message_id=f"<{number}@example.org>",
        lists=("alpha",) if number % 3 else ("beta",),
        thread_id=f"t{number % 9}",
        from_name=f"Sender {number % 5}",
        from_addr=f"s{number % 5}@example.org",
        subject=f"message {number}",
        date=None if number % 11 == 5 else START + timedelta(days=rng.randrange(400)),
        body_own=" ".join(words),
        body_quoted="",
    )


def _docs() -> list[IndexDoc]:
    rng = random.Random(4)
    docs = []
    for number in range(90):
        words = ["common"] * (1 + number % 4) + ["filler"] * (number % 7)
        if number % 30 == 1:
            words.append("rare")
        if number % 3 == 0:  # thirty copies of one text, on both sides of every split
            words = ["common", "twin"]
        docs.append(_doc(number, words, rng))
    rng.shuffle(docs)
    docs += [_doc(90 + n, ["lowonly", "filler"][: 1 + n % 2], rng) for n in range(4)]
    return docs  # "lowonly": the last ids only (the first parts have none)


def _open(path: Path, threads: int) -> SqliteFtsBackend:
    return SqliteFtsBackend(path, parallel_threads=threads, parallel_min_matches=1)


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("fts-parallel") / "search-fts.db")
    backend = _open(path, 1)
    backend.index(_docs())
    backend.close()
    return path


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each `Parts.ranked` call gave the page (not None); every page split."""
    taken: list[bool] = []
    ranked = Parts.ranked

    def spy(
        self: Parts, conn: sqlite3.Connection, plan: FtsPlan, page: tuple[int, int, int]
    ) -> list[Row] | None:
        rows = ranked(self, conn, plan, page)
        taken.append(rows is not None)
        return rows

    monkeypatch.setattr(Parts, "ranked", spy)
    monkeypatch.setattr(fts_page, "_EVERY", 0)
    return taken


def _full_order(path: Path, query: str) -> list[str]:
    plan = build_plan(resolve_query(parse_query(query), None))
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT d.key FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?"
            f" ORDER BY {BM25}, d.key",
            (plan.match,),
        ).fetchall()
    finally:
        conn.close()
    return [str(key) for (key,) in rows]


@pytest.mark.parametrize("slack", [fts_page._SLACK, 1])
@pytest.mark.parametrize("threads", [2, 3, 5])
@pytest.mark.parametrize(
    "query", ["common", "twin", "common OR rare", "filler", "rare", "lowonly", "common -filler"]
)
def test_split_pages_are_the_full_order_cut(
    path: Path,
    splits: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    slack: int,
    threads: int,
    query: str,
) -> None:
    monkeypatch.setattr(fts_page, "_SLACK", slack)
    full = _full_order(path, query)
    backend = _open(path, threads)
    try:
        for limit in (1, 3, 7, 20):
            for offset in range(0, len(full), max(1, limit // 2)):
                result = backend.search(query, limit=limit, offset=offset)
                assert result.total == len(full)
                assert [hit.key for hit in result.hits] == full[offset : offset + limit], (
                    limit,
                    offset,
                )
    finally:
        backend.close()
    assert splits and all(splits)


def test_ties_lie_across_the_split_and_a_part_can_be_empty(path: Path) -> None:
    # the corpus has what the merge is for: "twin" tied on both sides of each split point,
    # and "lowonly" in the last ids only, so that the first parts have no match
    conn = sqlite3.connect(path)
    try:
        low, high = conn.execute("SELECT min(id), max(id) FROM docs").fetchone()

        def ids(word: str) -> list[int]:
            found = conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (word,))
            return [int(i) for (i,) in found]

        twins, lows = ids("twin"), ids("lowonly")
    finally:
        conn.close()
    for threads in (2, 3, 5):
        bounds = fts_parallel._bounds(low - 1, high, threads)
        per_part = [[i for i in twins if bounds[n] < i <= bounds[n + 1]] for n in range(threads)]
        assert all(per_part) and sum(map(len, per_part)) == len(twins)
        assert not any(bounds[0] < i <= bounds[1] for i in lows)


def test_a_part_scores_as_the_whole_table(path: Path) -> None:
    # bm25's statistics are the whole table's: a rowid range does not change a score
    conn = sqlite3.connect(path)
    try:
        for word in ("common", "twin", "filler", "common OR rare"):
            whole = dict(conn.execute(f"{fts_parallel._SCORED}", (word,)).fetchall())
            (middle,) = conn.execute("SELECT max(id) / 2 FROM docs").fetchone()
            parts = [
                *conn.execute(f"{fts_parallel._SCORED} AND fts.rowid <= ?", (word, middle)),
                *conn.execute(f"{fts_parallel._SCORED} AND fts.rowid > ?", (word, middle)),
            ]
            assert dict(parts) == whole
            assert len(parts) == len(whole)
    finally:
        conn.close()


@pytest.mark.parametrize("sort", ["relevance", "date", "date_asc"])
@pytest.mark.parametrize(
    "query", ["common", "twin", '"common twin"', "common list:alpha", "filler after:2010-06-01"]
)
def test_answers_equal_one_pass(path: Path, sort: Sort, query: str) -> None:
    one, two = _open(path, 1), _open(path, 2)
    try:
        for offset in (0, 5, 29):
            old = one.search(query, sort=sort, limit=7, offset=offset, facets=True)
            new = two.search(query, sort=sort, limit=7, offset=offset, facets=True)
            assert new == old
    finally:
        one.close()
        two.close()


def test_only_plain_relevance_searches_split(path: Path, splits: list[bool]) -> None:
    backend = _open(path, 2)
    try:
        for sort in ("date", "date_asc"):
            backend.search("common", sort=sort)
        backend.search('"common twin"')  # a phrase: its bm25 runs it over the table per part
        backend.search("common list:alpha")  # a filter: counted by its page (fts_once)
        assert splits == []
        backend.search("common")
        assert splits == [True]
    finally:
        backend.close()


def test_a_commit_between_the_snapshots_gives_the_one_pass(
    tmp_path: Path, splits: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "search-fts.db"
    writer = _open(path, 1)
    writer.index(_docs())
    backend = _open(path, 2)
    before = backend.search("common", limit=20)
    begin = fts_parallel._begin
    written: list[int] = []

    def begin_after_a_commit(conn: sqlite3.Connection) -> tuple[object, ...]:
        if not written:  # a sync's batch: the best match of "common", in the last ids
            written.append(writer.index([_doc(500, ["common"], random.Random(1))]))
        return begin(conn)

    monkeypatch.setattr(fts_parallel, "_begin", begin_after_a_commit)
    try:
        during = backend.search("common", limit=20)
        assert written == [1]
        assert splits == [True, False]  # the first split, then the one pass
        assert during == before  # the search's own snapshot, without the new document
        after = backend.search("common", limit=20)
        assert after.total == before.total + 1
        assert splits[-1] is True
    finally:
        backend.close()
        writer.close()


def test_a_failing_part_gives_the_one_pass(
    path: Path, splits: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _open(path, 1)
    expected = one.search("common", limit=7, offset=3)
    one.close()
    scored = fts_parallel._scored

    def failing(conn: sqlite3.Connection, plan: FtsPlan, part: tuple[int, int, int]) -> Pairs:
        if part[0] > 0:
            raise sqlite3.OperationalError("disk I/O error")
        return scored(conn, plan, part)

    monkeypatch.setattr(fts_parallel, "_scored", failing)
    for threads in (2, 3):
        backend = _open(path, threads)
        try:
            assert backend.search("common", limit=7, offset=3) == expected
        finally:
            backend.close()
    assert splits == [False, False]


def test_the_parts_are_opened_once_and_closed_with_the_backend(
    path: Path, splits: list[bool]
) -> None:
    backend = _open(path, 3)
    for _ in range(3):
        backend.search("common")
    conns = list(backend.parts._conns)
    assert len(conns) == 2
    assert backend.parts._pool is not None
    backend.close()
    assert backend.parts._pool is None and backend.parts._conns == []
    with pytest.raises(sqlite3.ProgrammingError):
        conns[0].execute("SELECT 1")


def test_the_settings_reach_the_backend(tmp_path: Path) -> None:
    from config.settings import load_settings
    from search.factory import open_configured

    config = tmp_path / "listarchive.toml"
    config.write_text("[search]\nparallel_threads = 3\nparallel_min_matches = 5000\n")
    settings = load_settings(config, env={}, overrides={"data_dir": tmp_path})
    backend = open_configured(settings)
    try:
        assert isinstance(backend, SqliteFtsBackend)
        assert (backend.parts.threads, backend.parts.min_matches) == (3, 5000)
    finally:
        backend.close()
