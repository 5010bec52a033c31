"""The search query language, parsed into a backend-neutral AST (pure: no I/O, no settings).

Syntax (case-insensitive except the operators ``OR``/``AND``/``NOT``, which must be upper-case):

* ``deferred callback`` - bare words, all required (AND);
* ``"connection lost"`` - a phrase (adjacent words);
* ``-word``, ``-"a phrase"``, ``NOT word`` - exclusion;
* ``deferred OR callback`` - either side.  OR joins the two terms next to it (as in web search
  engines), so ``twisted deferred OR callback`` means ``twisted AND (deferred OR callback)``;
* ``(a b) OR c`` - parentheses group terms;
* ``from:glyph@twistedmatrix.com`` (exact sender address), ``from:glyph`` or
  ``from:"Jean-Paul Calderone"`` (token/prefix match on sender name or address); several
  ``from:`` values mean any of them;
* ``person:pxxxxxxxxxxxx`` - sent by that person (a person key, see `store.identities`: any of
  the person's addresses or names, as grouped when the search runs); several ``person:`` values
  mean any of them.  The backend resolves keys to identities through the store
  (`resolve_persons`), so a merge or split applies at once without reindexing;
* ``subject:deferred``, ``subject:"connection lost"`` - must occur in the subject (all of them);
* ``list:twisted-python`` - restrict to a list; several ``list:`` values mean any of them;
* ``thread:tXXXX`` - messages of that thread (its id, as in ``/threads/<id>``); several
  ``thread:`` values mean any of them;
* ``after:2014-09-01`` (inclusive), ``before:2015`` (exclusive); ``YYYY``, ``YYYY-MM`` and
  ``YYYY-MM-DD`` are accepted and mean the first day of that period (UTC).

Hostile input is bounded (`QueryLimits`, from the settings ``search.max_query_length``,
``search.max_query_depth``, ``search.max_terms`` and ``search.max_prefix_terms``): a longer
query, parentheses nested deeper (never more than `MAX_SAFE_DEPTH`, whatever the setting), more
words and phrases, or more ``from:`` names (prefix matches) than allowed is refused with a
`SearchQueryError` saying so.  The
only recursion in the parser and the builders follows parentheses, so that bound is also the
bound on the stack; ``OR`` chains, ``NOT``/``-`` runs and word lists are read in loops.

Filters (``from:``, ``person:``, ``subject:``, ``list:``, ``thread:``, ``after:``, ``before:``)
apply to the whole query: they cannot be negated, grouped in parentheses or combined with OR
(except ``list:a OR list:b``, ``from:a OR from:b``, ``person:a OR person:b`` and
``thread:a OR thread:b``, which mean what several such filters mean anyway).  A ``word:``
prefix that is not one of ours is part of the word (``http://host/path``, ``foo:bar``).

A word containing punctuation (``foo@bar.com``, ``2.5.0``, ``CVE-2021-33038``,
``twisted.internet.defer``) is one `Term` whose `Term.words` must match adjacently, like a phrase.

Backends highlight matches in snippets with `HIGHLIGHT_START` / `HIGHLIGHT_END` (the ASCII
control characters STX and ETX, which mail text does not contain in practice), so the web UI and
CLI can escape the snippet first and then replace the markers.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from typing import NamedTuple

from search.base import SearchQueryError
from search.query_lexer import Token, tokenize
from search.query_nodes import And as And
from search.query_nodes import Node as Node
from search.query_nodes import Not as Not
from search.query_nodes import Or as Or
from search.query_nodes import Query as Query
from search.query_nodes import Term as Term

logger = logging.getLogger(__name__)

HIGHLIGHT_START = "\x02"
HIGHLIGHT_END = "\x03"

MAX_SAFE_DEPTH = 12
"""Deepest parenthesis nesting ever accepted, whatever the setting.  Each level costs a few
stack frames here and in the builders, up to two nested ``bool`` queries in Elasticsearch
(which refuses more than 30: ``indices.query.bool.max_nested_depth``) and up to three
parenthesised levels in FTS5 (which refuses more than 256)."""


class QueryLimits(NamedTuple):  # not a dataclass: cheaper to import (issue 14)
    """Bounds on a query's text (the settings ``search.max_query_length`` / ``_depth``)."""

    max_length: int = 1000
    """Longest query accepted, in characters."""
    max_depth: int = 10
    """Deepest nesting of parentheses accepted (capped at `MAX_SAFE_DEPTH`)."""
    max_terms: int = 32
    """Most words and phrases (text, ``subject:`` and ``from:`` terms together) in one query."""
    max_prefix_terms: int = 8
    """Most ``from:`` names (each a prefix match, the costly kind) in one query."""
    min_prefix_chars: int = 2
    """Fewest letters or digits in the last word of a ``from:`` name (the prefix matched)."""


DEFAULT_LIMITS = QueryLimits()


_ANY_OF_FIELDS = ("list", "from", "person", "thread")
_WORD_RE = re.compile(r"[^\W_]+")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def split_words(text: str) -> tuple[str, ...]:
    """The runs of letters and digits in `text` (the unicode61 tokenizer's view of it)."""
    return tuple(_WORD_RE.findall(text))


# --- parser ----------------------------------------------------------------------------------


def parse_date(value: str, field: str) -> date:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (the first day of that period)."""
    match = _DATE_RE.match(value)
    if match is None:
        raise SearchQueryError(
            f"{field}: needs a date like 2014-09-01, 2014-09 or 2014, not {value!r}"
        )
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise SearchQueryError(f"{field}:{value} is not a valid date ({exc})") from exc


def _term(text: str, quoted: bool) -> Term | None:
    lowered = unicodedata.normalize("NFC", text).lower()
    words = split_words(lowered)
    return Term(lowered.strip(), words, quoted) if words else None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.lists: list[str] = []
        self.after: date | None = None
        self.before: date | None = None
        self.from_terms: list[Term] = []
        self.subject_terms: list[Term] = []
        self.persons: list[str] = []
        self.threads: list[str] = []

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def sequence(self, nested: bool) -> list[Node]:
        """Clauses up to ``)`` or the end; filters are collected, not returned."""
        items: list[Node] = []
        while (token := self.peek()) is not None and token.kind != "rparen":
            if token.kind == "and":
                self.take()
                continue
            if token.kind == "or":
                raise SearchQueryError("OR needs a term on both sides")
            if token.kind == "field":
                self.filter_chain(nested)
                continue
            node = self.or_chain()
            if node is not None:
                items.append(node)
        return items

    def filter_chain(self, nested: bool) -> None:
        token = self.take()
        if nested:
            raise SearchQueryError(f"{token.field}: cannot be used inside parentheses")
        self.add_filter(token)
        while (nxt := self.peek()) is not None and nxt.kind == "or":
            self.take()
            other = self.peek()
            if other is None or other.kind != "field":
                raise SearchQueryError(f"OR cannot combine {token.field}: with other terms")
            if other.field != token.field or token.field not in _ANY_OF_FIELDS:
                raise SearchQueryError(f"OR cannot combine {token.field}: and {other.field}:")
            self.add_filter(self.take())

    def add_filter(self, token: Token) -> None:
        field, value = token.field, token.text.strip()
        if not value:
            raise SearchQueryError(f"{field}: needs {'an id' if field == 'thread' else 'a value'}")
        if field == "list":
            self.lists.append(value.lower())
        elif field == "person":
            self.persons.append(value.lower())
        elif field == "thread":
            self.threads.append(value.lower())
        elif field in ("after", "before"):
            day = parse_date(value, field)
            if field == "after":
                self.after = day if self.after is None else max(self.after, day)
            else:
                self.before = day if self.before is None else min(self.before, day)
        else:
            term = _term(value, token.quoted)
            if term is None:
                raise SearchQueryError(f"{field}:{value} contains no letters or digits")
            (self.from_terms if field == "from" else self.subject_terms).append(term)

    def or_chain(self) -> Node | None:
        first = self.unary()
        items = [first]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("rparen", "or", "and"):
                raise SearchQueryError("OR needs a term on both sides")
            if nxt.kind == "field":
                raise SearchQueryError(f"OR cannot combine {nxt.field}: with other terms")
            items.append(self.unary())
        if len(items) == 1:
            return first
        if any(item is None for item in items):
            raise SearchQueryError("OR needs a term with letters or digits on both sides")
        if any(isinstance(item, Not) for item in items):
            raise SearchQueryError("an excluded term cannot be one side of OR")
        return Or(tuple(item for item in items if item is not None))

    def unary(self) -> Node | None:
        token = self.peek()
        if token is not None and token.kind in ("minus", "not"):
            self.take()
            operand = self.peek()
            if operand is not None and operand.kind in ("minus", "not"):
                raise SearchQueryError(
                    "a term can be excluded only once: write NOT word or -word "
                    "(NOT NOT word is not accepted; to require the word, write it alone)"
                )
            if operand is None or operand.kind in ("rparen", "or", "and"):
                raise SearchQueryError("nothing to exclude after - or NOT")
            if operand.kind == "field":
                raise SearchQueryError(f"{operand.field}: filters cannot be excluded")
            inner = self.primary()
            return None if inner is None else Not(inner)
        return self.primary()

    def primary(self) -> Node | None:
        token = self.take()
        if token.kind in ("word", "phrase"):
            return _term(token.text, token.quoted)
        if token.kind == "lparen":
            items = self.sequence(nested=True)
            if self.peek() is None:
                raise SearchQueryError("unbalanced parentheses: ( is never closed")
            self.take()
            if not items:
                raise SearchQueryError("empty parentheses")
            positive = [item for item in items if not isinstance(item, Not)]
            if not positive:
                raise SearchQueryError("a group in parentheses cannot contain only exclusions")
            return items[0] if len(items) == 1 else And(tuple(items))
        raise SearchQueryError(f"unexpected {token.kind.upper()}")


def parse_query(text: str, limits: QueryLimits = DEFAULT_LIMITS) -> Query:
    """Parse the query language described in this module; raises `SearchQueryError`, also
    for a query longer or nested deeper than `limits` allow."""
    if len(text) > limits.max_length:
        raise SearchQueryError(
            f"the query is too long: {len(text)} characters (at most {limits.max_length})"
        )
    parser = _Parser(tokenize(text, min(limits.max_depth, MAX_SAFE_DEPTH)))
    items = parser.sequence(nested=False)
    if parser.peek() is not None:
        raise SearchQueryError("unbalanced parentheses: ) without (")
    terms = tuple(item for item in items if not isinstance(item, Not))
    excluded = tuple(item.item for item in items if isinstance(item, Not))
    query = Query(
        terms=terms,
        excluded=excluded,
        lists=tuple(dict.fromkeys(parser.lists)),
        after=parser.after,
        before=parser.before,
        from_terms=tuple(dict.fromkeys(parser.from_terms)),
        subject_terms=tuple(dict.fromkeys(parser.subject_terms)),
        persons=tuple(dict.fromkeys(parser.persons)),
        threads=tuple(dict.fromkeys(parser.threads)),
    )
    _check_cost(query, limits)
    if not terms and not query.has_filters:
        if excluded:
            raise SearchQueryError(
                "a query cannot consist only of exclusions; add a term or filter"
            )
        raise SearchQueryError("empty query: type some words to search for")
    if query.after and query.before and query.after >= query.before:
        raise SearchQueryError("after: must be earlier than before:")
    logger.debug("parsed %r as %r", text, query)
    return query


def _count_terms(nodes: Iterable[Node]) -> int:
    count, stack = 0, list(nodes)
    while stack:  # a loop, not recursion: the AST is as deep as the parentheses allow
        node = stack.pop()
        if isinstance(node, Term):
            count += 1
        elif isinstance(node, Not):
            stack.append(node.item)
        else:
            stack.extend(node.items)
    return count


def _check_cost(query: Query, limits: QueryLimits) -> None:
    """Refuse a query whose cost the length limit alone does not bound: each term is one more
    index lookup (an OR of hundreds of short words scans most of the index), each ``from:``
    name a prefix expansion over every sender."""
    names = [term for term in query.from_terms if "@" not in term.text]
    for term in names:
        if len(term.words[-1]) < limits.min_prefix_chars:
            raise SearchQueryError(
                f"from:{term.text} is too short a name prefix: its last word needs at least"
                f" {limits.min_prefix_chars} letters or digits"
            )
    prefixes = len(names)
    if prefixes > limits.max_prefix_terms:
        raise SearchQueryError(
            f"the query has too many from: names: {prefixes} (at most {limits.max_prefix_terms}"
            "; an exact address from:user@host does not count)"
        )
    terms = (
        _count_terms(query.terms)
        + _count_terms(query.excluded)
        + len(query.subject_terms)
        + len(query.from_terms)
    )
    if terms > limits.max_terms:
        raise SearchQueryError(
            f"the query has too many terms: {terms} words or phrases (at most {limits.max_terms})"
        )


def resolve_persons(query: Query, lookup: Callable[[str], Iterable[int] | None]) -> Query:
    """`query` with the identities of its ``person:`` keys (`lookup` gives a key's identity
    ids, or None for an unknown person, which is refused with a `SearchQueryError`)."""
    if not query.persons:
        return query
    found: set[int] = set()
    for key in query.persons:
        identities = lookup(key)
        if identities is None:
            raise SearchQueryError(f"person:{key} is not a known person")
        found.update(identities)
    return query._replace(identities=tuple(sorted(found)))
