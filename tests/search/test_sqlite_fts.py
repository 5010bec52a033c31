"""Backend behaviour on the `DOCS` corpus; runs against every backend in `conftest.BACKENDS`.

The tests at the end (marked by their names) exercise SQLite-only details.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from search.base import (
    IndexOutOfStepError,
    SearchBackend,
    SearchQueryError,
    SearchResult,
    SearchUnavailableError,
)
from search.factory import SQLITE_FILENAME, open_backend
from search.fts_texts import KEEP_CHARS
from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from search.sqlite_fts import SCHEMA_VERSION, SqliteFtsBackend
from tests.search.conftest import DOCS
from tests.support.fts_memory import RecordingBackend

ALL_TWISTED_PYTHON_BY_DATE = [
    "m05", "m14", "m07", "m06", "m10", "m09", "m12", "m02", "m01", "m15", "m11", "m03", "m08",
]  # fmt: skip


def keys(result: SearchResult) -> list[str]:
    return [hit.key for hit in result.hits]


def found(backend: SearchBackend, query: str, **kwargs: object) -> set[str]:
    result = backend.search(query, limit=100, **kwargs)  # type: ignore[arg-type]
    assert result.total == len(result.hits)
    return set(keys(result))


def test_words_are_all_required(indexed: SearchBackend) -> None:
    # prose is stemmed: "deferred" also finds "defer" (m04's twisted.internet.defer, m07)
    assert found(indexed, "deferred") == {"m01", "m02", "m04", "m07", "m13", "m14"}
    assert found(indexed, "deferred trial") == {"m13"}
    assert found(indexed, "DEFERRED Trial") == {"m13"}


def test_phrase_needs_adjacent_words(indexed: SearchBackend) -> None:
    assert found(indexed, "database lost") == {"m10"}
    assert found(indexed, '"database lost"') == set()
    assert found(indexed, '"database connection"') == {"m10"}


def test_phrase_in_own_text_ranks_above_quoted_text(indexed: SearchBackend) -> None:
    result = indexed.search('"connection lost"')
    assert keys(result) == ["m09", "m10"]
    assert result.hits[0].score > result.hits[1].score


def test_subject_match_ranks_above_body_match(indexed: SearchBackend) -> None:
    result = indexed.search("reactor")
    assert result.total == 4
    assert set(keys(result)[:2]) == {"m08", "m15"}
    assert set(keys(result)[2:]) == {"m11", "m14"}


def test_exclusion(indexed: SearchBackend) -> None:
    assert found(indexed, "deferred -cancellation") == {"m04", "m07", "m13"}
    assert found(indexed, 'deferred -"cancellation semantics"') == {"m04", "m07", "m13", "m14"}
    assert found(indexed, "deferred NOT trial") == {"m01", "m02", "m04", "m07", "m14"}


def test_exclusion_with_filters_only(indexed: SearchBackend) -> None:
    assert found(indexed, "list:twisted-web -deferred") == {"m05"}


def test_or(indexed: SearchBackend) -> None:
    assert found(indexed, "inlineCallbacks OR CancelledError") == {"m01", "m02", "m04", "m12"}
    assert found(indexed, "sprint reactor OR logging") == {"m14"}
    assert found(indexed, "(sprint questions) OR (reactor forever)") == {"m06", "m08"}


def test_from_exact_address(indexed: SearchBackend) -> None:
    assert found(indexed, "from:exarkun@twistedmatrix.com") == {"m02", "m13"}
    assert found(indexed, "from:Exarkun@TwistedMatrix.COM") == {"m02", "m13"}
    assert found(indexed, "from:exarkun@twistedmatrix") == set()


def test_from_name_and_prefix(indexed: SearchBackend) -> None:
    calderone = {"m02", "m04", "m13"}
    assert found(indexed, "from:calderone") == calderone
    assert found(indexed, 'from:"Jean-Paul Calderone"') == calderone
    assert found(indexed, "from:calder") == calderone
    assert found(indexed, "from:exarkun") == calderone
    assert found(indexed, "from:twistedmatrix.com") == {"m01", "m02", "m07", "m12", "m13"}
    assert found(indexed, "from:muller") == {"m11"}


def test_several_from_values_mean_any(indexed: SearchBackend) -> None:
    expected = {"m01", "m07", "m12", "m05", "m10", "m15"}
    assert found(indexed, "from:glyph from:hawkowl@atleastfornow.net") == expected
    assert found(indexed, "from:glyph OR from:amber") == expected
    assert found(indexed, "from:glyph logging") == {"m12"}


def test_subject_filter(indexed: SearchBackend) -> None:
    assert found(indexed, "subject:deferred") == {"m01", "m02"}
    assert found(indexed, 'subject:"cancellation semantics"') == {"m01", "m02"}
    assert found(indexed, "subject:reactor") == {"m08", "m15"}
    assert found(indexed, "subject:reactor subject:shutdown") == {"m15"}
    assert found(indexed, "subject:errback") == set()


def test_list_filter(indexed: SearchBackend) -> None:
    assert found(indexed, "list:twisted-web") == {"m04", "m05", "m13"}
    assert found(indexed, "list:Twisted-Web list:nonexistent") == {"m04", "m05", "m13"}
    assert found(indexed, "list:twisted-web deferred") == {"m04", "m13"}
    assert found(indexed, "deferred", lists=("twisted-web",)) == {"m04", "m13"}
    assert found(indexed, "list:twisted-python", lists=("twisted-web",)) == {"m05"}


def test_date_filters(indexed: SearchBackend) -> None:
    september = {"m01", "m02", "m15"}
    assert found(indexed, "after:2014-09-01 before:2014-10-01") == september
    assert found(indexed, "after:2014-09 before:2014-10") == september
    assert found(indexed, "after:2021") == {"m05"}
    assert found(indexed, "before:2008") == {"m03"}
    assert found(indexed, "reactor after:2014") == {"m11", "m14", "m15"}


def test_filter_only_query_sorts_newest_first_undated_last(indexed: SearchBackend) -> None:
    result = indexed.search("list:twisted-python", limit=100)
    assert keys(result) == ALL_TWISTED_PYTHON_BY_DATE
    assert result.hits[-1].date is None


def test_sort_orders(indexed: SearchBackend) -> None:
    assert keys(indexed.search("list:twisted-web", sort="date_asc")) == ["m13", "m04", "m05"]
    assert keys(indexed.search("cancellation", sort="date")) == ["m14", "m02", "m01"]
    assert keys(indexed.search("cancellation", sort="date_asc")) == ["m01", "m02", "m14"]


def test_total_is_exact_when_limit_is_smaller(indexed: SearchBackend) -> None:
    result = indexed.search("list:twisted-python", limit=3)
    assert result.total == 13
    assert keys(result) == ALL_TWISTED_PYTHON_BY_DATE[:3]
    assert indexed.search("reactor", limit=1).total == 4
    empty = indexed.search("reactor", limit=0)
    assert (empty.total, empty.hits) == (4, [])


def test_paging_with_offset(indexed: SearchBackend) -> None:
    pages = [keys(indexed.search("list:twisted-python", limit=5, offset=o)) for o in (0, 5, 10)]
    assert [len(page) for page in pages] == [5, 5, 3]
    assert [key for page in pages for key in page] == ALL_TWISTED_PYTHON_BY_DATE
    beyond = indexed.search("reactor", offset=10)
    assert beyond.total == 4
    assert beyond.hits == []


def test_snippet_highlights_matches(indexed: SearchBackend) -> None:
    (hit,) = indexed.search("errback -reconnecting from:glyph").hits
    assert hit.key == "m01"
    start = hit.snippet.index(HIGHLIGHT_START)
    end = hit.snippet.index(HIGHLIGHT_END)
    assert hit.snippet[start + 1 : end] == "errback"


def test_snippet_falls_back_to_body_start(indexed: SearchBackend) -> None:
    (hit,) = indexed.search("subject:shutdown").hits
    assert hit.snippet.startswith("How do I stop the reactor")
    assert HIGHLIGHT_START not in hit.snippet
    (dated,) = indexed.search("before:2008").hits
    assert dated.snippet.startswith("Twisted 2.5.0 is out")


def test_hit_fields(indexed: SearchBackend) -> None:
    (hit,) = indexed.search("CVE-2021-33038").hits
    assert hit.key == "m05"
    assert hit.message_id == "<m05@example.org>"
    assert hit.lists == ("twisted-python", "twisted-web")
    assert (hit.from_name, hit.from_addr) == ("Amber Brown", "hawkowl@atleastfornow.net")
    assert hit.subject == "Security advisory for twisted.web"
    assert hit.date == datetime(2021, 6, 1, tzinfo=UTC)
    assert hit.thread_id == "thread-m05"


@pytest.mark.parametrize(
    ("query", "expected", "parts"),
    [
        ("foo@bar.com", {"m06"}, "foo bar com"),
        ("http://twistedmatrix.com/trac/ticket/1234", {"m02"}, "http twistedmatrix trac 1234"),
        ("2.5.0", {"m03"}, "2 5 0"),
        ("cve-2021-33038", {"m05"}, "cve 2021 33038"),
        ("twisted.internet.defer", {"m04"}, "twisted internet defer"),
    ],
)
def test_punctuated_terms_match_whole_not_scattered(
    indexed: SearchBackend, query: str, expected: set[str], parts: str
) -> None:
    assert found(indexed, query) == expected
    assert found(indexed, query.upper()) == expected
    # m07 contains every part, scattered: matching the parts separately does find it
    assert "m07" in found(indexed, parts)


def test_diacritics_are_folded(indexed: SearchBackend) -> None:
    assert found(indexed, "cafe zurich") == {"m11"}
    assert found(indexed, "Zürich") == {"m11"}


def test_bad_query_raises_query_error(indexed: SearchBackend) -> None:
    for bad in ("-reactor", '"unbalanced', "after:2014-13-01", "reactor OR"):
        with pytest.raises(SearchQueryError):
            indexed.search(bad)


def test_upsert_replaces_without_duplicating(indexed: SearchBackend) -> None:
    changed = replace(DOCS[0], body_own="Rewritten body mentioning tornado instead.")
    assert indexed.index([changed]) == 1
    assert indexed.count() == len(DOCS)
    assert found(indexed, "unwinds") == set()
    assert found(indexed, "tornado") == {"m01"}
    assert found(indexed, "subject:deferred") == {"m01", "m02"}


def test_duplicate_keys_in_one_batch_keep_the_last(backend: SearchBackend) -> None:
    first = replace(DOCS[0], body_own="first version")
    second = replace(DOCS[0], body_own="second version")
    assert backend.index(iter([first, second])) == 1
    assert backend.count() == 1
    assert found(backend, "version") == {"m01"}
    assert found(backend, "first") == set()


def test_delete(indexed: SearchBackend) -> None:
    assert indexed.delete(["m01", "no-such-key"]) == 1
    assert indexed.count() == len(DOCS) - 1
    assert found(indexed, "errback") == {"m02"}
    assert indexed.delete([]) == 0


def test_clear_drops_documents_and_checkpoint(indexed: SearchBackend) -> None:
    indexed.set_checkpoint(7)
    indexed.clear()
    assert indexed.count() == 0
    assert indexed.get_checkpoint() == 0
    indexed.finish_rebuild()  # Elasticsearch keeps serving the old index until here
    assert indexed.search("reactor").total == 0
    assert indexed.index(DOCS[:2]) == 2
    assert found(indexed, "deferred") == {"m01", "m02"}


def test_checkpoint(backend: SearchBackend) -> None:
    assert backend.get_checkpoint() == 0
    backend.set_checkpoint(42)
    backend.set_checkpoint(43)
    assert backend.get_checkpoint() == 43
    assert backend.index([]) == 0


# --- SQLite only -------------------------------------------------------------------------------


def test_sqlite_persists_across_reopen_in_wal_mode(tmp_path: Path) -> None:
    backend = open_backend("sqlite", tmp_path)
    backend.index(DOCS)
    backend.set_checkpoint(99)
    backend.close()
    path = tmp_path / SQLITE_FILENAME
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reopened = SqliteFtsBackend(path)
    assert reopened.name == "sqlite"
    assert (reopened.count(), reopened.get_checkpoint()) == (len(DOCS), 99)
    reopened.close()


def test_sqlite_other_schema_version_is_rebuilt_empty(tmp_path: Path) -> None:
    path = tmp_path / "fts.db"
    backend = SqliteFtsBackend(path)
    backend.index(DOCS)
    backend.set_checkpoint(5)
    backend.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '0' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()
    reopened = SqliteFtsBackend(path)
    assert (reopened.count(), reopened.get_checkpoint()) == (0, 0)
    reopened.close()
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    conn.close()
    assert row == (str(SCHEMA_VERSION),)


def test_sqlite_unopenable_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SearchUnavailableError):
        SqliteFtsBackend(tmp_path)  # a directory
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database, just some bytes" * 100)
    with pytest.raises(SearchUnavailableError):
        SqliteFtsBackend(garbage)


def test_sqlite_closed_backend_is_unavailable(tmp_path: Path) -> None:
    backend = SqliteFtsBackend(tmp_path / "fts.db")
    backend.close()
    with pytest.raises(SearchUnavailableError):
        backend.count()


def test_factory_kinds(tmp_path: Path) -> None:
    backend = open_backend("sqlite", tmp_path)
    assert isinstance(backend, SqliteFtsBackend)
    assert backend.path == tmp_path / "search-fts.db"
    backend.close()
    # nothing listens on port 9: a clear error, not a traceback
    with pytest.raises(SearchUnavailableError, match="127.0.0.1:9 is unreachable"):
        open_backend("elasticsearch", tmp_path, "http://127.0.0.1:9")
    with pytest.raises(SearchUnavailableError, match="unknown search backend"):
        open_backend("solr", tmp_path)


def _indexed_terms(path: Path) -> set[str]:
    """Every term the FTS5 index of the database at `path` holds (its `fts5vocab` rows)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, row)")
        return {str(row[0]) for row in conn.execute("SELECT term FROM temp.vocab")}
    finally:
        conn.close()


def test_sqlite_index_keeps_no_text_copy_and_forgets_replaced_terms(tmp_path: Path) -> None:
    """The FTS5 table is contentless (issue 14): no `fts_content` table and no copy of a short
    body; a replaced or deleted document's terms leave the index (its 'delete' gets the exact
    values back from the store, here `MemoryTexts`), and snippets come from the store too,
    multi-byte text split right between the bodies."""
    path = tmp_path / "fts.db"
    backend = RecordingBackend(path)
    first = replace(DOCS[0], body_own="Zwölf Boxkämpfer jagen Viktor", body_quoted="quux über")
    backend.index([first, *DOCS[1:]])
    assert {"zwolf", "quux"} <= _indexed_terms(path)
    [hit] = backend.search("quux").hits
    assert f"{HIGHLIGHT_START}quux{HIGHLIGHT_END}" in hit.snippet
    [hit] = backend.search("viktor").hits
    assert f"{HIGHLIGHT_START}Viktor{HIGHLIGHT_END}" in hit.snippet
    backend.index([replace(first, body_own="tornado", body_quoted="", subject="Replaced")])
    terms = _indexed_terms(path)
    assert "tornado" in terms and "replac" in terms
    assert not {"zwolf", "quux", "viktor"} & terms
    backend.delete([first.key])
    assert "tornado" not in _indexed_terms(path)
    backend.close()
    conn = sqlite3.connect(path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    (kept,) = conn.execute("SELECT sum(length(texts)) FROM docs").fetchone()
    conn.close()
    assert "fts_content" not in tables and "fts_docsize" in tables
    assert kept == 0


def test_sqlite_long_body_keeps_its_text_and_a_lost_text_is_refused(tmp_path: Path) -> None:
    """A body longer than `KEEP_CHARS` keeps its indexed text in `docs.texts` (snippets and
    'delete' need no store); a short body whose indexed text the store holds no more (not as
    it is now, not superseded) is not deleted with other values: `IndexOutOfStepError`, and
    nothing changed."""
    path = tmp_path / "fts.db"
    backend = RecordingBackend(path)
    long = replace(DOCS[0], key="long", body_own="wombat " * (KEEP_CHARS // 7 + 1))
    backend.index([long, DOCS[1]])
    backend.memory.bodies.clear()  # the store knows neither any more
    [hit] = backend.search("wombat").hits
    assert hit.snippet.startswith(f"{HIGHLIGHT_START}wombat{HIGHLIGHT_END}")
    backend.delete(["long"])
    assert "wombat" not in _indexed_terms(path)
    with pytest.raises(IndexOutOfStepError):
        backend.delete([DOCS[1].key])
    assert [h.key for h in backend.search("ticket").hits] == [DOCS[1].key]
    backend.close()
