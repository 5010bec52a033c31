"""What the search page shows around its hits: the active filters as removable chips, the
date histogram of the matches, and what the query was understood as (for a search with no
result).  Pure functions of the search's parameters and result, shared by the page and its
JSON twin (`webui.search_pages`).

Each chip links to the same search without that filter (`search.query_edit` cuts it out of
the query as written; a ``?list=`` parameter is dropped from the URL).  The histogram counts
the matches per month (the backends' ``month`` facet) and shows them by month when they span
at most `MONTHS_SHOWN` months, else by year; a bar links to the search narrowed to its
period (its ``after:``/``before:`` filters replaced, within the range already asked for).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from search.base import SearchQueryError
from search.query import And, Node, Not, Or, Query, Term, parse_query
from search.query_edit import filters, with_dates, without
from webui.obfuscate import obfuscate_text

MONTHS_SHOWN = 36
"""Matches spanning at most this many months are counted by month, more by year."""
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LABELS = {
    "list": "list",
    "person": "sender",
    "from": "from",
    "subject": "subject",
    "thread": "thread",
    "after": "after",
    "before": "before",
}

NO_NAME = "(no name)"
"""How a person without a display name is shown (their address never is)."""

UrlFor = Callable[..., str]
"""`SearchParams.url`: the search page's URL with changes applied."""


def active_filters(
    q: str, lists: tuple[str, ...], names: Mapping[str, str], url: UrlFor
) -> list[dict[str, Any]]:
    """Each filter of the search (in the query, then ``?list=`` parameters): its field, value,
    label and the URL of the search without it.  A ``person:`` filter is labelled with the
    person's display name (`names`), never an address."""
    out: list[dict[str, Any]] = []
    for span in filters(q):
        value = span.value
        shown = value
        if span.field == "person":
            shown = names.get(value.lower(), value) or NO_NAME
        rest = without(q, span)
        out.append(
            {
                "field": span.field,
                "value": value,
                "label": f"{LABELS[span.field]}: {obfuscate_text(shown)}",
                "query": rest,
                "url": url(q=rest, page=1, cursor=None),
            }
        )
    for name in lists:
        kept = tuple(other for other in lists if other != name)
        out.append(
            {
                "field": "list",
                "value": name,
                "label": f"list: {name}",
                "query": q,
                "url": url(lists=kept, page=1, cursor=None),
            }
        )
    return out


def _month_index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def _month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _bound(value: date | None, start: date, later: bool, short: str) -> str:
    """The period's bound `short` (``YYYY`` or ``YYYY-MM``, the first day `start`), kept
    within the query's own bound `value` (`later`: the later of the two wins)."""
    if value is None or (value <= start if later else value >= start):
        return short
    return value.isoformat()


def histogram(months: list[tuple[str, int]], q: str, url: UrlFor) -> dict[str, Any] | None:
    """The date histogram of a search (`months`: the ``month`` facet, oldest first): its unit
    (``month`` or ``year``), and every period from the first match to the last with its count
    and, when it has matches, the URL of the search narrowed to it.  None without dated
    matches."""
    months = [(m, c) for m, c in months if 1 <= int(m[:4]) < 9999]  # a period ends in range
    if not months:
        return None
    try:
        parsed: Query | None = parse_query(q) if q else None
    except SearchQueryError:
        parsed = None
    after = parsed.after if parsed else None
    before = parsed.before if parsed else None
    first, last = _month_index(months[0][0]), _month_index(months[-1][0])
    counts = dict(months)
    buckets: list[dict[str, Any]] = []
    if last - first < MONTHS_SHOWN:
        unit = "month"
        for index in range(first, last + 1):
            value = _month_text(index)
            start = date(index // 12, index % 12 + 1, 1)
            end = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
            label = f"{MONTH_NAMES[index % 12]} {index // 12}"
            buckets.append(
                _bucket(value, label, counts.get(value, 0), start, end, _month_text(index + 1))
            )
    else:
        unit = "year"
        years: dict[int, int] = {}
        for month, count in months:
            years[int(month[:4])] = years.get(int(month[:4]), 0) + count
        for year in range(first // 12, last // 12 + 1):
            start, end = date(year, 1, 1), date(year + 1, 1, 1)
            buckets.append(
                _bucket(f"{year:04d}", f"{year}", years.get(year, 0), start, end, f"{year + 1}")
            )
    for bucket in buckets:
        start, end = bucket.pop("_start"), bucket.pop("_end")
        low = _bound(after, start, True, bucket["value"])
        high = _bound(before, end, False, bucket.pop("_next"))
        bucket["after"], bucket["before"] = low, high
        bucket["active"] = (after, before) == (start, end)
        narrowed = with_dates(q, low, high)
        bucket["query"] = narrowed if bucket["count"] else None
        bucket["url"] = url(q=narrowed, page=1, cursor=None) if bucket["count"] else None
    return {
        "unit": unit,
        "first": buckets[0]["value"],
        "last": buckets[-1]["value"],
        "max": max(bucket["count"] for bucket in buckets),
        "buckets": buckets,
    }


def _bucket(value: str, label: str, count: int, start: date, end: date, nxt: str) -> dict[str, Any]:
    return {
        "value": value,
        "label": label,
        "count": count,
        "_start": start,
        "_end": end,
        "_next": nxt,
    }


def _node_text(node: Node) -> str:
    if isinstance(node, Term):
        return f'"{node.text}"' if node.quoted or node.phrase else node.text
    if isinstance(node, Not):
        return f"-{_node_text(node.item)}"
    joiner = " OR " if isinstance(node, Or) else " "
    inner = joiner.join(_node_text(item) for item in node.items)
    return f"({inner})" if isinstance(node, And | Or) and len(node.items) > 1 else inner


def understood(q: str) -> dict[str, Any] | None:
    """What `q` was understood as: the required words and phrases (each item of `terms` must
    match; an OR is one item), the excluded ones, and the filters; None for a query that does
    not parse (its error is shown instead)."""
    if not q:
        return None
    try:
        parsed = parse_query(q)
    except SearchQueryError:
        return None
    return {
        "terms": [_node_text(node) for node in parsed.terms],
        "excluded": [_node_text(node) for node in parsed.excluded],
        "subject": [term.text for term in parsed.subject_terms],
        "from": [obfuscate_text(term.text) for term in parsed.from_terms],
        "persons": list(parsed.persons),
        "lists": list(parsed.lists),
        "threads": list(parsed.threads),
        "after": parsed.after.isoformat() if parsed.after else None,
        "before": parsed.before.isoformat() if parsed.before else None,
    }
