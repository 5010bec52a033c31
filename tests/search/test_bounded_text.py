"""Bounded text (issue 11, D4): what is indexed of a message and what snippets are made from
are bounded by settings, on both backends, whatever the size of the body."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from search.base import IndexDoc, SearchBackend
from search.query import HIGHLIGHT_END, HIGHLIGHT_START, parse_query
from search.snippets import (
    TextLimits,
    bounded_doc,
    cut_utf8,
    highlight_phrases,
    make_snippet,
    retag,
)
from tests.search.conftest import DOCS

FILLER = "plain filler words that say nothing in particular at all\n"


def _big(key: str, body: str, quoted: str = "") -> IndexDoc:
    return replace(DOCS[0], key=key, message_id=f"<{key}@x>", body_own=body, body_quoted=quoted)


def _limits(backend: SearchBackend, limits: TextLimits) -> None:
    cast(Any, backend).text_limits = limits


def test_cut_utf8_never_cuts_a_character_and_can_keep_whole_words() -> None:
    assert cut_utf8("héllo wörld", 7) == "héllo "
    assert cut_utf8("héllo wörld", 8) == "héllo w"
    assert cut_utf8("héllo wörld", 8, whole_words=True) == "héllo "
    assert cut_utf8("€€€", 5) == "€"
    assert cut_utf8("short", 1000) == "short"
    assert cut_utf8("short text", 10) == "short text"


def test_the_bodies_share_one_budget_own_text_first() -> None:
    doc = _big("b1", "own " * 10, "quoted " * 10)
    cut = bounded_doc(doc, TextLimits(max_indexed_bytes=58))
    assert cut.body_own == doc.body_own  # 40 bytes
    assert cut.body_quoted == "quoted quoted "  # 18 bytes left, whole words
    assert bounded_doc(doc, TextLimits(max_indexed_bytes=10_000)) is doc


def test_snippets_highlight_phrases_in_one_window() -> None:
    phrases = highlight_phrases(parse_query('"connection lost" factory -server'))
    text = "After connection lost the factory retries with exponential backoff."
    assert make_snippet(text, phrases) == (
        f"After {HIGHLIGHT_START}connection lost{HIGHLIGHT_END} the "
        f"{HIGHLIGHT_START}factory{HIGHLIGHT_END} retries with exponential backoff."
    )
    assert make_snippet("lost connection here", phrases) is None
    long = "word " * 100 + "the factory is here " + "word " * 100
    snippet = make_snippet(long, phrases)
    assert snippet is not None and snippet.startswith("… ") and snippet.endswith(" …")
    assert f"{HIGHLIGHT_START}factory{HIGHLIGHT_END}" in snippet


def test_words_beyond_the_indexed_bytes_are_not_searchable(backend: SearchBackend) -> None:
    _limits(backend, TextLimits(max_indexed_bytes=64 * 1024, max_snippet_bytes=4096))
    body = "zanzibar " + FILLER * 2000 + " quokka"  # quokka at ~114 KB
    backend.index([_big("huge", body, "> quoted wombat")])
    assert [h.key for h in backend.search("zanzibar").hits] == ["huge"]
    assert backend.search("quokka").total == 0
    assert backend.search("wombat").total == 0  # the own text used the whole budget


def test_snippets_come_from_the_bounded_prefix(backend: SearchBackend) -> None:
    _limits(backend, TextLimits(max_indexed_bytes=1024 * 1024, max_snippet_bytes=4096))
    body = "zanzibar " + FILLER * 200 + " quokka"  # quokka at ~11 KB: indexed, not snippeted
    backend.index([_big("long", body)])
    (near,) = backend.search("zanzibar").hits
    assert f"{HIGHLIGHT_START}zanzibar{HIGHLIGHT_END}" in near.snippet
    (far,) = backend.search("quokka").hits
    assert HIGHLIGHT_START not in far.snippet
    assert far.snippet.startswith("zanzibar plain filler words")


def test_a_body_longer_than_the_highlighter_allows_is_still_found(
    backend: SearchBackend,
) -> None:
    """Elasticsearch refuses (400) to highlight more than index.highlight.max_analyzed_offset
    (1,000,000) characters unless the request bounds it; the default indexed bytes (1 MiB)
    are more than that."""
    body = "zanzibar " + FILLER * (1_040_000 // len(FILLER)) + " quokka"
    assert 1_000_000 < len(body) < TextLimits().max_indexed_bytes
    backend.index([_big("mib", body)])
    (hit,) = backend.search("quokka").hits
    assert hit.key == "mib" and hit.snippet.startswith("zanzibar plain")
    (hit,) = backend.search("zanzibar", facets=True).hits
    assert f"{HIGHLIGHT_START}zanzibar{HIGHLIGHT_END}" in hit.snippet


def test_markers_trimmed_by_elasticsearch_are_put_back() -> None:
    s, e = HIGHLIGHT_START, HIGHLIGHT_END
    assert retag(f"zanzibar{e} plain") == f"{s}zanzibar{e} plain"
    assert retag(f"plain {s}zanzibar") == f"plain {s}zanzibar{e}"
    assert retag(f"a {s}b{e} c") == f"a {s}b{e} c"
    assert retag("no match") == "no match"
