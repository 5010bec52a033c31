"""Editing a query's text by its filters (pure): what the search page's chips and date
histogram link to.

The web UI shows each filter of a query (``list:``, ``person:``, ``after:``...) as a chip
whose link is the same search without it, and narrows a search's dates by replacing its
``after:``/``before:`` filters.  Both edit the text the reader wrote, cutting out exactly the
filter (and the ``OR`` that joined it to another of its kind), so the rest of the query stays
as written.  A query that does not parse has no filters here (the search refuses it anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from search.base import SearchQueryError
from search.query import MAX_SAFE_DEPTH
from search.query_lexer import Token, tokenize


@dataclass(frozen=True, slots=True)
class FilterSpan:
    """One filter as written in the query text: ``text[start:end]``."""

    field: str
    value: str
    start: int
    end: int
    quoted: bool = False


def _tokens(text: str) -> list[Token]:
    try:
        return tokenize(text, MAX_SAFE_DEPTH)
    except SearchQueryError:
        return []


def filters(text: str) -> list[FilterSpan]:
    """The filters of `text` outside parentheses, in the order written (none if the text
    cannot be read)."""
    out: list[FilterSpan] = []
    depth = 0
    for token in _tokens(text):
        if token.kind == "lparen":
            depth += 1
        elif token.kind == "rparen":
            depth -= 1
        elif token.kind == "field" and depth == 0:
            value = token.text.strip()
            out.append(FilterSpan(token.field, value, token.start, token.end, token.quoted))
    return out


def _join(text: str, cuts: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    position = 0
    for start, end in sorted(cuts):
        if start < position:
            continue
        parts.append(text[position:start])
        position = end
    parts.append(text[position:])
    return " ".join(" ".join(part.split()) for part in parts if part.strip())


def _or_cuts(text: str, spans: list[FilterSpan]) -> list[tuple[int, int]]:
    """The spans to cut for these filters: each filter, and the ``OR`` joining it to a
    neighbour (before it if there is one, else after), so ``list:a OR list:b`` without
    ``list:a`` is ``list:b``."""
    tokens = _tokens(text)
    starts = {span.start for span in spans}
    cuts: list[tuple[int, int]] = []
    for index, token in enumerate(tokens):
        if token.kind != "field" or token.start not in starts:
            continue
        cuts.append((token.start, token.end))
        before = tokens[index - 1] if index > 0 else None
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        if before is not None and before.kind == "or":
            cuts.append((before.start, before.end))
        elif after is not None and after.kind == "or":
            cuts.append((after.start, after.end))
    return cuts


def without(text: str, span: FilterSpan) -> str:
    """`text` without the filter `span` (one of `filters(text)`)."""
    return _join(text, _or_cuts(text, [span]))


def without_fields(text: str, fields: set[str]) -> str:
    """`text` without any filter of these fields."""
    return _join(text, _or_cuts(text, [s for s in filters(text) if s.field in fields]))


def with_dates(text: str, after: str, before: str) -> str:
    """`text` with its date filters replaced by ``after:AFTER before:BEFORE`` (dates as the
    syntax writes them: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; an empty one is left out)."""
    rest = without_fields(text, {"after", "before"})
    added = (f"after:{after}" if after else "", f"before:{before}" if before else "")
    return " ".join(part for part in (rest, *added) if part)
