"""Hostile queries: length and nesting are bounded with a clear message, and no shape of query
reaches a recursion deep enough to blow the stack (pure parser and builders, then the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from search.base import SearchBackend, SearchQueryError
from search.es_query import build_query
from search.fts_sql import build_plan
from search.query import MAX_SAFE_DEPTH, Or, QueryLimits, parse_query

PARENS_250 = "(" * 250 + "a" + ")" * 250  # the 501-byte query of issue 11


def test_deep_parentheses_are_refused_with_the_limit() -> None:
    with pytest.raises(SearchQueryError, match=r"nests parentheses deeper than 10 levels"):
        parse_query(PARENS_250, QueryLimits(max_length=1000, max_depth=10))


def test_depth_at_the_limit_is_accepted_one_more_is_not() -> None:
    limits = QueryLimits(max_length=1000, max_depth=4)
    query = parse_query("((((a b) OR c) -d) e) f", limits)
    assert query.terms
    parse_query("(((( a ))))", limits)
    with pytest.raises(SearchQueryError, match="deeper than 4"):
        parse_query("((((( a )))))", limits)
    # unclosed parentheses count too (they are never closed, but nest all the same)
    with pytest.raises(SearchQueryError, match="deeper than 4"):
        parse_query("(" * 300 + "a", limits)


def test_length_is_bounded() -> None:
    text = "word " * 201
    with pytest.raises(SearchQueryError, match=r"too long: 1005 characters \(at most 1000\)"):
        parse_query(text, QueryLimits(max_length=1000, max_depth=10, max_terms=1000))
    assert parse_query(text.strip(), QueryLimits(max_length=1004, max_depth=10, max_terms=1000))


def test_a_configured_depth_is_capped_at_the_safe_depth() -> None:
    limits = QueryLimits(max_length=1_000_000, max_depth=1_000_000)
    with pytest.raises(SearchQueryError, match=f"deeper than {MAX_SAFE_DEPTH} levels"):
        parse_query("(" * 5000 + "a" + ")" * 5000, limits)
    nested = "(" * MAX_SAFE_DEPTH + "a -b" + ")" * MAX_SAFE_DEPTH
    query = parse_query(nested, limits)
    build_plan(query)
    build_query(query)


@pytest.mark.parametrize(
    "text",
    [
        "NOT " * 3000 + "a",
        "- " * 3000 + "a",
        "-" * 3000 + "a",
        "a " + "OR " * 3000 + "b",
        " ".join(f"w{i}" for i in range(3000)),
        '"' * 3001,
        "list:x " * 3000,
        "from:a OR " * 3000 + "from:b",
        ")" * 5000 + "a",
        "-(" * 3000 + "a",
    ],
)
def test_no_shape_of_query_recurses_without_bound(text: str) -> None:
    limits = QueryLimits(
        max_length=1_000_000, max_depth=1_000_000, max_terms=10**6, max_prefix_terms=10**6
    )
    try:
        query = parse_query(text, limits)
    except SearchQueryError:
        return
    build_plan(query)
    build_query(query)


def test_a_long_or_chain_is_one_flat_node() -> None:
    text = " OR ".join(f"w{i}" for i in range(2000))
    query = parse_query(text, QueryLimits(max_length=len(text), max_depth=10, max_terms=2000))
    (node,) = query.terms
    assert isinstance(node, Or) and len(node.items) == 2000
    assert build_plan(query).match is not None


def test_cli_search_refuses_a_deep_query_with_a_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "search", PARENS_250])
    assert result.exit_code == 1, result.output
    assert "nests parentheses deeper than 10 levels" in result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    long_query = "x" * 1001
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "search", long_query])
    assert result.exit_code == 1 and "too long: 1001 characters" in result.output


def _deepest(depth: int) -> str:
    """Queries nesting AND, OR and NOT at every level (the deepest backend expressions)."""
    text = "stop.it"  # punctuated: one more bool in Elasticsearch
    for level in range(depth):
        text = f"({text} OR c{level} reactor -x{level})"
    return text


def _deepest_alternating(depth: int) -> str:
    text = "reactor"
    for level in range(depth // 2):
        text = f"(reactor OR w{level} ({text} -x{level}))"
    return text


@pytest.mark.parametrize("shape", [_deepest, _deepest_alternating])
def test_the_deepest_accepted_query_runs_on_every_backend(
    indexed: SearchBackend, shape: Callable[[int], str]
) -> None:
    text = shape(MAX_SAFE_DEPTH)
    limits = QueryLimits(max_length=len(text), max_depth=MAX_SAFE_DEPTH, max_terms=64)
    assert parse_query(text, limits).terms
    indexed.limits = limits
    result = indexed.search(text, facets=True)
    assert result.total == indexed.search(shape(1)).total > 0


def test_the_number_of_terms_is_bounded() -> None:
    limits = QueryLimits(max_terms=5, max_prefix_terms=2)
    assert len(parse_query("a b (c OR d) -e", limits).terms) == 3
    with pytest.raises(SearchQueryError, match=r"too many terms: 6 words or phrases \(at most 5\)"):
        parse_query("a b (c OR d) -e subject:f", limits)
    # an OR chain of short words counts every word (issue 11: 160 `t*` ORs took 10 s)
    with pytest.raises(SearchQueryError, match="too many terms: 160"):
        parse_query(" OR ".join(["t*"] * 160))


def test_from_names_are_bounded_exact_addresses_are_not() -> None:
    limits = QueryLimits(max_terms=64, max_prefix_terms=2)
    parse_query("from:a@x.org from:b@x.org from:c@x.org from:glyph from:exarkun x", limits)
    with pytest.raises(SearchQueryError, match=r"too many from: names: 3 \(at most 2"):
        parse_query("from:glyph from:exarkun from:itamar x", limits)
    with pytest.raises(SearchQueryError, match="too many from: names: 100"):
        parse_query(" ".join(f"from:n{i}" for i in range(100)))
    # the default refuses the 333 short terms of issue 11 that fit in 1000 characters (45 s)
    with pytest.raises(SearchQueryError, match="too many terms: 333"):
        parse_query(" ".join(["a*"] * 333))


def test_a_from_name_prefix_needs_two_letters() -> None:
    """FTS5 expands a prefix over every word of the index that starts with it (the index is
    shared by all columns): one letter is nearly the whole vocabulary."""
    with pytest.raises(SearchQueryError, match=r"from:t is too short a name prefix.* at least 2"):
        parse_query("from:t reactor")
    with pytest.raises(SearchQueryError, match="from:jean-paul c is too short"):
        parse_query('from:"Jean-Paul C"')
    assert parse_query("from:t@x.org").from_terms  # an address is exact, not a prefix
    assert parse_query('from:"Jean-Paul Ca" from:gl').from_terms
    parse_query("from:t", QueryLimits(min_prefix_chars=1))
