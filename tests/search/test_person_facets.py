"""The sender facet is by person (key and name, counts summed over the person's identities),
never by address; ``person:`` filters on the identities a person has when the search runs.
Both backends, the same tests."""

from __future__ import annotations

import pytest

from search.base import PersonRef, SearchBackend, SearchQueryError
from search.es_query import build_query
from search.fts_sql import build_plan
from search.persons import person_facet
from search.query import parse_query, resolve_persons
from tests.search.conftest import DOCS, IDENTITIES, JP, JP_DIVMOD, PERSONS, DictPersons


def test_sender_facet_is_persons_with_summed_counts(indexed: SearchBackend) -> None:
    result = indexed.search("after:1970", facets=True, persons=DictPersons(PERSONS))
    senders = dict(result.facets["sender"])
    by_jp = sum(1 for d in DOCS if d.from_name == JP[0] and d.date is not None)
    assert by_jp == 3
    assert senders["pjp"] == by_jp  # two addresses, one person, once
    assert result.person_names["pjp"] == "Jean-Paul Calderone"
    assert set(result.person_names) == set(senders)
    assert sum(senders.values()) == result.total
    assert not any("@" in text for pair in result.facets["sender"] for text in map(str, pair))
    assert not any("@" in name for name in result.person_names.values())
    counts = [count for _, count in result.facets["sender"]]
    assert counts == sorted(counts, reverse=True)


def test_person_filter_matches_every_identity_of_the_person(indexed: SearchBackend) -> None:
    persons = DictPersons(PERSONS)
    by_person = indexed.search("person:pjp", persons=persons, limit=50)
    assert {h.from_addr for h in by_person.hits} == {JP[1], JP_DIVMOD[1]}
    by_name = indexed.search('from:"Jean-Paul Calderone"', limit=50)
    assert by_person.total == by_name.total == 3
    both = indexed.search("person:pjp OR person:pglyph", persons=persons, limit=50)
    glyph = indexed.search("person:PGLYPH", persons=persons).total
    assert both.total == 3 + glyph and glyph > 0
    assert indexed.search("cancellation person:pjp", persons=persons).total == 1


def test_a_merge_applies_without_reindexing(indexed: SearchBackend) -> None:
    split = dict(PERSONS)
    split[IDENTITIES[JP_DIVMOD[1]]] = PersonRef("pdivmod", "exarkun")
    persons = DictPersons(split)
    assert indexed.search("person:pjp", persons=persons).total == 2
    assert indexed.search("person:pdivmod", persons=persons).total == 1
    facet = dict(indexed.search("after:1970", facets=True, persons=persons).facets["sender"])
    assert (facet["pjp"], facet["pdivmod"]) == (2, 1)


def test_person_filter_errors(indexed: SearchBackend) -> None:
    with pytest.raises(SearchQueryError, match="person:pnobody is not a known person"):
        indexed.search("person:pnobody", persons=DictPersons(PERSONS))
    with pytest.raises(SearchQueryError, match="person: filters need"):
        indexed.search("person:pjp")
    with pytest.raises(SearchQueryError, match="cannot be used inside parentheses"):
        parse_query("(a person:pjp)")
    with pytest.raises(SearchQueryError, match="OR cannot combine person: and list:"):
        parse_query("person:pjp OR list:x")


def test_person_filter_builders_are_pure() -> None:
    query = parse_query("reactor person:pjp OR person:pglyph")
    assert query.persons == ("pjp", "pglyph") and query.has_filters
    with pytest.raises(ValueError, match="resolved"):
        build_plan(query)
    with pytest.raises(ValueError, match="resolved"):
        build_query(query)
    resolved = resolve_persons(query, {"pjp": (3, 2), "pglyph": (1,)}.get)
    assert resolved.identities == (1, 2, 3)
    plan = build_plan(resolved)
    assert "d.identity IN (?, ?, ?)" in plan.where and plan.params[-3:] == (1, 2, 3)
    clause, _ = build_query(resolved)
    assert {"terms": {"identity": [1, 2, 3]}} in clause["bool"]["filter"]
    nobody = resolve_persons(parse_query("person:pjp"), {"pjp": ()}.get)
    assert build_plan(nobody).where == "0"


def test_person_facet_sums_and_orders() -> None:
    persons = {1: PersonRef("pa", "Zed"), 2: PersonRef("pa", "Zed"), 3: PersonRef("pb", "Amy")}
    top, names = person_facet([(1, 2), (2, 2), (3, 4), (9, 50)], persons)
    assert top == [("pb", 4), ("pa", 4)] and names == {"pa": "Zed", "pb": "Amy"}
    assert person_facet([(1, 1), (3, 1)], persons, size=1) == ([("pb", 1)], {"pb": "Amy"})
