"""Editing a query by its filters (`search.query_edit`): the search page's chips and histogram."""

from __future__ import annotations

from search.query import parse_query
from search.query_edit import filters, with_dates, without, without_fields

QUERY = 'deferred list:a OR list:b from:"Jean-Paul Calderone" (x y) after:2014 before:2015-01'


def test_filters_are_found_where_they_are_written() -> None:
    found = filters(QUERY)
    assert [(f.field, f.value) for f in found] == [
        ("list", "a"),
        ("list", "b"),
        ("from", "Jean-Paul Calderone"),
        ("after", "2014"),
        ("before", "2015-01"),
    ]
    assert [QUERY[f.start : f.end] for f in found][2] == 'from:"Jean-Paul Calderone"'
    assert filters('deferred "unbalanced') == []  # a query that cannot be read has none


def test_removing_a_filter_keeps_the_rest_as_written() -> None:
    first, second, sender, after, _ = filters(QUERY)
    assert without(QUERY, first) == (
        'deferred list:b from:"Jean-Paul Calderone" (x y) after:2014 before:2015-01'
    )
    assert without(QUERY, second) == (
        'deferred list:a from:"Jean-Paul Calderone" (x y) after:2014 before:2015-01'
    )
    assert without(QUERY, sender) == "deferred list:a OR list:b (x y) after:2014 before:2015-01"
    for span in filters(QUERY):  # every removal is still a query the parser accepts
        parse_query(without(QUERY, span))
    assert without(QUERY, after) == (
        'deferred list:a OR list:b from:"Jean-Paul Calderone" (x y) before:2015-01'
    )


def test_dates_are_replaced_not_added() -> None:
    narrowed = with_dates(QUERY, "2014-09", "2014-10")
    assert narrowed.endswith("(x y) after:2014-09 before:2014-10")
    assert narrowed.count("after:") == narrowed.count("before:") == 1
    assert with_dates("", "2001", "2002") == "after:2001 before:2002"
    assert without_fields("after:2001 before:2002", {"after", "before"}) == ""
