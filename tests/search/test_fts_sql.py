"""Translation of parsed queries into FTS5 MATCH strings and SQL (pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest

from search.fts_sql import BM25, FtsPlan, build_plan, day_epoch, fts_match, order_by
from search.query import Not, Or, Term, parse_query


def plan(text: str, lists: tuple[str, ...] = ()) -> FtsPlan:
    return build_plan(parse_query(text), lists)


def test_words_and_phrases_are_quoted_strings() -> None:
    assert plan("Deferred callback") == FtsPlan('("deferred" AND "callback")', "1", ())
    assert plan('"connection lost"').match == '"connection lost"'


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("foo@bar.com", '"foo bar com"'),
        ("http://twistedmatrix.com/trac/ticket/1234", '"http twistedmatrix com trac ticket 1234"'),
        ("2.5.0", '"2 5 0"'),
        ("CVE-2021-33038", '"cve 2021 33038"'),
        ("twisted.internet.defer", '"twisted internet defer"'),
        ("NOT_DONE_YET", '"not done yet"'),
    ],
)
def test_punctuated_terms_become_phrases(text: str, match: str) -> None:
    assert plan(text).match == match


def test_fts_keywords_in_the_query_stay_quoted() -> None:
    assert plan("near and or").match == '("near" AND "and" AND "or")'


def test_or_and_groups() -> None:
    assert (
        plan("twisted deferred OR callback").match == '("twisted" AND ("deferred" OR "callback"))'
    )
    assert plan("(a b) OR c").match == '(("a" AND "b") OR "c")'
    assert plan("(a -b) OR c").match == '(("a" NOT ("b")) OR "c")'


def test_exclusions_subtract_from_the_match() -> None:
    assert plan('deferred -callback -"error handling"').match == (
        '("deferred" NOT ("callback" OR "error handling"))'
    )


def test_exclusions_without_match_become_a_not_in_condition() -> None:
    assert plan("list:twisted-python -spam -ham") == FtsPlan(
        None,
        "(instr(lower(d.lists), ?) > 0) AND d.id NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)",
        ("|twisted-python|", '"spam" OR "ham"'),
    )


def test_subject_terms_are_column_filters() -> None:
    assert plan('subject:deferred subject:"connection lost" reactor').match == (
        '("reactor" AND subject : "deferred" AND subject : "connection lost")'
    )


def test_from_address_is_exact_and_names_are_prefixes() -> None:
    assert plan("from:Glyph@TwistedMatrix.com") == FtsPlan(
        None, "lower(d.from_addr) IN (?)", ("glyph@twistedmatrix.com",), by_sender=True
    )
    assert plan('from:calder from:"Jean-Paul Ca"') == FtsPlan(
        None,
        "d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)",
        ('sender : ("calder" * OR "jean paul ca" *)',),
        by_sender=True,
    )
    mixed = plan("from:a@b.org from:glyph reactor")
    assert mixed.match == '"reactor"'
    assert mixed.where == (
        "(lower(d.from_addr) IN (?) OR d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?))"
    )
    assert mixed.params == ("a@b.org", 'sender : "glyph" *')


def test_lists_dates_and_argument_lists() -> None:
    result = plan("list:a list:b after:2014-09 before:2015 x", lists=("Web",))
    assert result.match == '"x"'
    assert result.where == (
        "(instr(lower(d.lists), ?) > 0 OR instr(lower(d.lists), ?) > 0)"
        " AND (instr(lower(d.lists), ?) > 0) AND d.date >= ? AND d.date < ?"
    )
    assert result.params == ("|a|", "|b|", "|web|", 1409529600, 1420070400)


def test_by_sender_says_whether_sender_indexes_list_the_filtered_documents() -> None:
    assert plan("x from:a@b.org from:glyph").by_sender
    assert plan("x from:a@b.org after:2014-09 before:2015").by_sender  # dates checked after
    assert not plan("x after:2014-09 before:2015").by_sender  # a date range: too many
    assert not plan("x from:a@b.org list:a").by_sender
    assert not plan("x from:a@b.org", lists=("web",)).by_sender
    assert not plan("x from:a@b.org thread:abc").by_sender
    assert not plan("x").by_sender


def test_day_epoch_is_utc_midnight() -> None:
    assert day_epoch(date(1970, 1, 2)) == 86400


def test_order_by() -> None:
    ranked = plan("reactor")
    filtered = plan("list:a")
    assert order_by(ranked, "relevance") == f"{BM25}, d.key"
    assert BM25 == "bm25(fts, 5.0, 3.0, 1.0, 0.3)"
    assert order_by(filtered, "relevance") == "d.date DESC NULLS LAST, d.key"
    assert order_by(ranked, "date") == "d.date DESC NULLS LAST, d.key"
    assert order_by(ranked, "date_asc") == "d.date ASC NULLS LAST, d.key"


def test_bare_not_cannot_be_translated() -> None:
    with pytest.raises(ValueError, match="positive term"):
        fts_match(Or((Not(Term("a", ("a",))), Term("b", ("b",)))))
