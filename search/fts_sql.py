"""Pure translation of a parsed `Query` into SQLite FTS5 MATCH strings and SQL conditions.

No database here: `build_plan` is tested against expected strings and parameter tuples.

The FTS5 table (see `search.sqlite_fts`) has the columns ``subject``, ``sender`` (name and
address), ``body_own`` and ``body_quoted``; the plain table is aliased ``d`` and its ``id`` is the
FTS rowid.  Every term becomes a double-quoted FTS5 string of its letter/digit runs, so
``foo@bar.com`` is the phrase ``"foo bar com"`` and no user input reaches FTS5 syntax unquoted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import NamedTuple

from search.base import Sort
from search.query import And, Node, Not, Or, Query, Term

FTS_COLUMNS = ("subject", "sender", "body_own", "body_quoted")
BM25_WEIGHTS = (5.0, 3.0, 1.0, 0.3)
"""bm25 column weights, in `FTS_COLUMNS` order: subject > sender > body_own > body_quoted."""
BM25 = f"bm25(fts, {', '.join(str(weight) for weight in BM25_WEIGHTS)})"
"""The rank expression (lower is better)."""


class FtsPlan(NamedTuple):  # not a dataclass: cheaper to import (issue 14)
    """How to run one query: an optional ranking MATCH plus a WHERE condition on ``d``."""

    match: str | None
    """FTS5 expression the results must match (and are ranked by); None for filter-only."""
    where: str
    """SQL condition over the docs table ``d`` (``1`` when there is none)."""
    params: tuple[str | int, ...]
    """Parameters of `where`, in order."""
    by_sender: bool = False
    """`where` names senders (``from:``, ``person:``) and no list or thread: the documents
    it selects can be listed from the sender indexes (addresses, identities, the FTS
    ``sender`` column), a few of them, without reading every matching row."""


def day_epoch(day: date) -> int:
    """Seconds since the epoch at 00:00 UTC on `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def fts_string(term: Term, *, prefix: bool = False) -> str:
    """The FTS5 string (phrase) for `term`; with `prefix` its last word is a prefix."""
    return '"' + " ".join(term.words) + '"' + (" *" if prefix else "")


def fts_match(node: Node) -> str:
    """The FTS5 expression of an AST node; a `Not` must sit inside an `And` with a positive item."""
    if isinstance(node, Term):
        return fts_string(node)
    if isinstance(node, Or):
        return "(" + " OR ".join(fts_match(item) for item in node.items) + ")"
    if isinstance(node, And):
        positive = [fts_match(item) for item in node.items if not isinstance(item, Not)]
        negative = [fts_match(item.item) for item in node.items if isinstance(item, Not)]
        return _and_not(positive, negative)
    raise ValueError("an exclusion needs a positive term to be subtracted from")


def _and_not(positive: list[str], negative: list[str]) -> str:
    if not positive:
        raise ValueError("an exclusion needs a positive term to be subtracted from")
    text = positive[0] if len(positive) == 1 else "(" + " AND ".join(positive) + ")"
    if negative:
        text = f"{text} NOT ({' OR '.join(negative)})"
        text = f"({text})"
    return text


def _any_list(names: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    clause = " OR ".join("instr(lower(d.lists), ?) > 0" for _ in names)
    return f"({clause})", tuple(f"|{name.lower()}|" for name in names)


def _from_condition(terms: tuple[Term, ...]) -> tuple[str, tuple[str, ...]]:
    addresses = tuple(dict.fromkeys(t.text for t in terms if "@" in t.text))
    names = [t for t in terms if "@" not in t.text]
    parts: list[str] = []
    params: tuple[str, ...] = ()
    if addresses:
        parts.append(f"lower(d.from_addr) IN ({', '.join('?' for _ in addresses)})")
        params += addresses
    if names:
        strings = [fts_string(t, prefix=True) for t in names]
        inner = strings[0] if len(strings) == 1 else "(" + " OR ".join(strings) + ")"
        parts.append("d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
        params += (f"sender : {inner}",)
    return ("(" + " OR ".join(parts) + ")" if len(parts) > 1 else parts[0]), params


def _resolved(query: Query) -> tuple[int, ...]:
    if query.identities is None:
        raise ValueError("person: filters must be resolved first (search.query.resolve_persons)")
    return query.identities


def build_plan(query: Query, lists: tuple[str, ...] = ()) -> FtsPlan:
    """Translate `query`, restricted to any of `lists` if given (in addition to ``list:``)."""
    conditions: list[str] = []
    params: tuple[str | int, ...] = ()
    by_sender = bool(query.from_terms or query.persons)
    by_sender &= not (query.lists or query.threads or any(lists))
    for names in (query.lists, tuple(name for name in lists if name)):
        if names:
            clause, values = _any_list(names)
            conditions.append(clause)
            params += values
    if query.threads:
        conditions.append(f"d.thread_id IN ({', '.join('?' for _ in query.threads)})")
        params += query.threads
    if query.after is not None:
        conditions.append("d.date >= ?")
        params += (day_epoch(query.after),)
    if query.before is not None:
        conditions.append("d.date < ?")
        params += (day_epoch(query.before),)
    if query.from_terms:
        clause, values = _from_condition(query.from_terms)
        conditions.append(clause)
        params += values
    if query.persons:
        ids = _resolved(query)
        conditions.append(f"d.identity IN ({', '.join('?' for _ in ids)})" if ids else "0")
        params += ids
    positive = [fts_match(node) for node in query.terms]
    positive += [f"subject : {fts_string(term)}" for term in query.subject_terms]
    negative = [fts_match(node) for node in query.excluded]
    match: str | None = None
    if positive:
        match = _and_not(positive, negative)
    elif negative:
        conditions.append("d.id NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
        params += (" OR ".join(negative),)
    where = " AND ".join(conditions) if conditions else "1"
    return FtsPlan(match=match, where=where, params=params, by_sender=by_sender)


def order_by(plan: FtsPlan, sort: Sort) -> str:
    """The ORDER BY clause (without the keywords); ties are broken by key."""
    if sort == "relevance" and plan.match is not None:
        return f"{BM25}, d.key"
    if sort == "date_asc":
        return "d.date ASC NULLS LAST, d.key"
    return "d.date DESC NULLS LAST, d.key"
