"""The query tree's nodes behave as the frozen dataclasses they replaced (search.query_nodes):
equality and hash by kind and fields, their repr, no assignment, pattern matching, copies."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from search.query import And, Node, Not, Or, Term, parse_query


def test_equality_and_hash_are_by_kind_and_fields() -> None:
    a, b = Term("a", ("a",)), Term("b", ("b",))
    assert Term("a", ("a",)) == a and hash(Term("a", ("a",))) == hash(a)
    assert Term("a", ("a",), quoted=True) != a
    assert And((a, b)) == And((a, b)) and hash(And((a, b))) == hash(And((a, b)))
    assert And((a, b)) != Or((a, b))  # the same fields, another kind
    assert Not(a) != a and Not(a) != (a,)
    assert len({And((a, b)), And((a, b)), Or((a, b)), Not(a), Not(a)}) == 3
    assert hash(a) == hash(("a", ("a",), False))  # as a dataclass hashes its fields


def test_repr_is_a_dataclass_repr() -> None:
    node = parse_query('deferred OR "lost conn"').text
    assert repr(node) == (
        "Or(items=(Term(text='deferred', words=('deferred',), quoted=False), "
        "Term(text='lost conn', words=('lost', 'conn'), quoted=True)))"
    )


@pytest.mark.parametrize("node", [Term("a", ("a",)), And(()), Or(()), Not(Term("a", ("a",)))])
def test_nodes_are_frozen(node: Node) -> None:
    field = type(node).__match_args__[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(node, field, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(node, field)


def test_pattern_matching_and_copies() -> None:
    node = parse_query("a -b").text
    match node:
        case And(items=(Term(text="a"), Not(Term("b", words)))):
            assert words == ("b",)
        case _:
            pytest.fail(f"not matched: {node!r}")
    assert pickle.loads(pickle.dumps(node)) == node
    assert copy.deepcopy(node) == node and copy.copy(node) == node
