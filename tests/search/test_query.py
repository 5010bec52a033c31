"""The query language parser (pure: no backend)."""

from __future__ import annotations

from datetime import date

import pytest

from search.base import SearchQueryError
from search.query import And, Not, Or, Query, Term, parse_query, split_words


def word(text: str) -> Term:
    return Term(text, split_words(text))


def phrase(text: str) -> Term:
    return Term(text, split_words(text), quoted=True)


def only_term(text: str) -> Term:
    (node,) = parse_query(text).terms
    assert isinstance(node, Term)
    return node


def test_bare_words_are_all_required_and_lower_cased() -> None:
    query = parse_query("Deferred  CALLBACK")
    assert query.terms == (word("deferred"), word("callback"))
    assert query.text == And((word("deferred"), word("callback")))
    assert not query.filter_only
    assert not query.has_filters


def test_single_word_text_is_the_term() -> None:
    assert parse_query("reactor").text == word("reactor")


def test_quoted_phrase() -> None:
    term = only_term('"Connection Lost"')
    assert term == phrase("connection lost")
    assert term.words == ("connection", "lost")
    assert term.phrase and term.quoted


def test_single_quoted_word_is_not_a_phrase() -> None:
    term = only_term('"reactor"')
    assert term.quoted and not term.phrase


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("foo@bar.com", ("foo", "bar", "com")),
        ("http://twistedmatrix.com/trac/1234", ("http", "twistedmatrix", "com", "trac", "1234")),
        ("2.5.0", ("2", "5", "0")),
        ("CVE-2021-33038", ("cve", "2021", "33038")),
        ("twisted.internet.defer", ("twisted", "internet", "defer")),
        ("foo:bar", ("foo", "bar")),
        ("self._reactor", ("self", "reactor")),
    ],
)  # fmt: skip
def test_punctuated_word_is_one_phrase_term(text: str, words: tuple[str, ...]) -> None:
    term = only_term(text)
    assert term.text == text.lower()
    assert term.words == words
    assert term.phrase and not term.quoted


def test_punctuation_only_words_are_dropped() -> None:
    assert parse_query("reactor & -- ...").terms == (word("reactor"),)


def test_exclusions() -> None:
    query = parse_query('deferred -callback -"error handling" NOT trial')
    assert query.terms == (word("deferred"),)
    assert query.excluded == (word("callback"), phrase("error handling"), word("trial"))
    assert query.text == And(
        (word("deferred"), Not(word("callback")), Not(phrase("error handling")), Not(word("trial")))
    )


def test_hyphen_inside_word_is_not_an_exclusion() -> None:
    assert parse_query("jean-paul").terms == (Term("jean-paul", ("jean", "paul")),)


def test_or_joins_adjacent_terms() -> None:
    assert parse_query("deferred OR callback").terms == (Or((word("deferred"), word("callback"))),)
    assert parse_query("twisted deferred OR callback OR errback").terms == (
        word("twisted"),
        Or((word("deferred"), word("callback"), word("errback"))),
    )


def test_lower_case_or_and_are_words() -> None:
    assert parse_query("this or that").terms == (word("this"), word("or"), word("that"))
    assert parse_query("this AND that").terms == (word("this"), word("that"))


def test_parentheses_group() -> None:
    query = parse_query('(reactor "event loop") OR (deferred -callback) twisted')
    assert query.terms == (
        Or(
            (
                And((word("reactor"), phrase("event loop"))),
                And((word("deferred"), Not(word("callback")))),
            )
        ),
        word("twisted"),
    )
    assert parse_query("-(a OR b) c").excluded == (Or((word("a"), word("b"))),)


def test_parentheses_inside_words_are_punctuation() -> None:
    assert parse_query("reactor.callLater()").terms == (
        Term("reactor.calllater()", ("reactor", "calllater")),
    )
    assert parse_query("(foo())").terms == (Term("foo()", ("foo",)),)


def test_from_filter_forms() -> None:
    query = parse_query('from:glyph@twistedmatrix.com from:calder FROM:"Jean-Paul Calderone"')
    assert query.from_terms == (
        word("glyph@twistedmatrix.com"),
        word("calder"),
        phrase("jean-paul calderone"),
    )
    assert query.filter_only and query.has_filters and query.text is None


def test_or_between_list_or_from_filters_is_accepted() -> None:
    query = parse_query("list:a OR list:b from:xa OR from:yb")
    assert query.lists == ("a", "b")
    assert query.from_terms == (word("xa"), word("yb"))


def test_subject_filter() -> None:
    query = parse_query('subject:Deferred subject:"connection lost" reactor')
    assert query.subject_terms == (word("deferred"), phrase("connection lost"))
    assert query.terms == (word("reactor"),)
    assert not parse_query("subject:deferred").filter_only


def test_list_filters_deduplicated_and_lower_cased() -> None:
    assert parse_query("list:Twisted-Python list:twisted-web list:twisted-python").lists == (
        "twisted-python",
        "twisted-web",
    )


@pytest.mark.parametrize(
    ("text", "after", "before"),
    [
        ("after:2014-09-01", date(2014, 9, 1), None),
        ("after:2014-09", date(2014, 9, 1), None),
        ("before:2014", None, date(2014, 1, 1)),
        ("after:2014-9-5 before:2015-02-28", date(2014, 9, 5), date(2015, 2, 28)),
        ("after:2010 after:2012 before:2020 before:2016", date(2012, 1, 1), date(2016, 1, 1)),
    ],
)
def test_date_filters(text: str, after: date | None, before: date | None) -> None:
    query = parse_query(text)
    assert (query.after, query.before) == (after, before)
    assert query.filter_only


def test_filter_only_query_with_exclusion_is_valid() -> None:
    query = parse_query("list:twisted-python after:2014-09-01 -spam")
    assert query == Query(
        excluded=(word("spam"),), lists=("twisted-python",), after=date(2014, 9, 1)
    )
    assert query.filter_only


def test_unknown_field_prefix_is_a_plain_word() -> None:
    assert parse_query("author:glyph").terms == (Term("author:glyph", ("author", "glyph")),)
    assert parse_query("mailto:foo@bar.com").terms[0] == word("mailto:foo@bar.com")


def test_unicode_is_normalised() -> None:
    decomposed = "cafe\u0301"
    assert parse_query(decomposed).terms == (word("café"),)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty query"),
        ("   & ", "empty query"),
        ('"unbalanced phrase', "unbalanced quote"),
        ('reactor from:"no end', "unbalanced quote"),
        ("after:2014-13-01", "not a valid date"),
        ("before:yesterday", "needs a date"),
        ("after:14-09-01", "needs a date"),
        ("after:", "after: needs a value"),
        ("from:", "from: needs a value"),
        ('from:""', "from: needs a value"),
        ("from:--", "no letters or digits"),
        ("subject:", "subject: needs a value"),
        ("list:", "list: needs a value"),
        ("-spam", "only of exclusions"),
        ('-spam -"ham eggs"', "only of exclusions"),
        ("OR deferred", "both sides"),
        ("deferred OR", "both sides"),
        ("deferred OR OR callback", "both sides"),
        ("deferred OR &", "both sides"),
        ("deferred OR -callback", "cannot be one side of OR"),
        ("deferred OR list:x", "OR cannot combine list:"),
        ("list:x OR deferred", "OR cannot combine list:"),
        ("list:x OR from:y", "OR cannot combine list: and from:"),
        ("subject:x OR subject:y", "OR cannot combine subject:"),
        ("-from:spammer reactor", "cannot be excluded"),
        ("reactor (", "never closed"),
        ("(reactor", "never closed"),
        ("()", "empty parentheses"),
        ("(-spam) reactor", "only exclusions"),
        ("(list:x reactor)", "inside parentheses"),
        ("reactor NOT", "nothing to exclude"),
        ("after:2015 before:2014", "earlier than before"),
    ],
)
def test_errors(text: str, reason: str) -> None:
    with pytest.raises(SearchQueryError, match=reason):
        parse_query(text)


def test_lone_hyphen_and_stray_close_paren_are_harmless() -> None:
    assert parse_query("reactor - stop").terms == (word("reactor"), word("stop"))
    assert parse_query("reactor)").terms == (Term("reactor)", ("reactor",)),)
