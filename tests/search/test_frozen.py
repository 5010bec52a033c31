"""The search's frozen records (search.frozen.Frozen: the query tree, `Query`, `Hit`,
`PersonRef`, `SearchResult`) behave as the frozen dataclasses with slots they replaced: each
is checked against a dataclass with the same fields and values (repr, ==, hash, replace,
assignment, pickling, defaults)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC, date, datetime
from typing import Any

import pytest

from search.base import Hit, PersonRef, SearchResult
from search.frozen import Frozen
from search.query import And, Not, Or, Query, Term

TERM = Term("lost conn", ("lost", "conn"), quoted=True)
EXAMPLES: list[Frozen] = [
    TERM,
    And((TERM, Term("a", ("a",)))),
    Or((TERM,)),
    Not(TERM),
    Query(terms=(TERM,), lists=("twisted",), after=date(2014, 9, 1), identities=(3, 4)),
    Query(),
    Hit("k", "<m@x>", ("l",), "Subject", "Name", "a@x", datetime(2020, 1, 2, tzinfo=UTC), "t", "…"),
    Hit("k", "<m@x>", (), "", "", "a@x", None, "t", "", score=-1.5),
    PersonRef("pkey", "Name"),
    SearchResult(3, [], {"list": [("l", 3)]}, {"p": "P"}, "cursor"),
    SearchResult(0),
]


def _reference(record: Frozen) -> Any:
    """A frozen dataclass with slots with `record`'s class name, fields and values."""
    names = type(record).__match_args__
    cls = dataclasses.make_dataclass(type(record).__qualname__, names, frozen=True, slots=True)
    return cls(*(getattr(record, name) for name in names))


@pytest.mark.parametrize("record", EXAMPLES, ids=lambda r: type(r).__name__)
def test_behaves_as_a_frozen_dataclass(record: Frozen) -> None:
    reference = _reference(record)
    assert repr(record) == repr(reference)
    hashable = not isinstance(record, SearchResult)  # its lists and dicts are not hashable
    if hashable:
        assert hash(record) == hash(reference)
    else:
        with pytest.raises(TypeError):
            hash(record)
    values = tuple(getattr(record, name) for name in type(record).__match_args__)
    twin = type(record)(*values)
    assert twin == record and not (twin != record) and twin is not record
    assert record != reference and record != values  # equal only to its own kind
    first = type(record).__match_args__[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, first, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(record, first)
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.copy(record) == record and copy.deepcopy(record) == record
    changed = record._replace(**{first: getattr(record, first)})
    assert changed == record and changed is not record


def test_replace_and_defaults() -> None:
    query = Query(terms=(TERM,), persons=("pkey",))
    resolved = query._replace(identities=(1, 2))
    assert resolved.identities == (1, 2) and resolved.persons == ("pkey",)
    assert query.identities is None  # unchanged
    with pytest.raises(TypeError):
        query._replace(nosuchfield=1)
    assert Query() == Query((), (), (), None, None, (), (), (), None, ())
    assert Hit("k", "m", (), "", "", "", None, "t", "").score == 0.0
    first, second = SearchResult(0), SearchResult(0)
    assert first.hits == [] and first.facets == {} and first.person_names == {}
    assert first.hits is not second.hits and first.facets is not second.facets  # fresh ones
    assert first.next_cursor is None and first == second
