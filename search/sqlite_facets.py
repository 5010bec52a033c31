"""Facet counts (list, year, month, sender identity) for the embedded backend, over the whole match
set.  Sender counts are per identity: the backend sums them into persons (`search.persons`)."""

from __future__ import annotations

import sqlite3
from collections import Counter

from search.base import FACET_SIZE
from search.fts_sql import FtsPlan


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]


def compute_facets(
    conn: sqlite3.Connection, plan: FtsPlan
) -> tuple[dict[str, list[tuple[str, int]]], list[tuple[int, int]]]:
    """The list, year and month facets of the matches of `plan`, and the count per sender
    identity (every identity: exact)."""
    groups = "SELECT d.lists, strftime('%Y-%m', d.date, 'unixepoch'), d.identity, count(*)"
    if plan.match is None:
        sql = f"{groups} FROM docs d WHERE {plan.where} GROUP BY 1, 2, 3"
        params: tuple[object, ...] = plan.params
    else:
        sql = (
            f"{groups} FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? "
            f"AND {plan.where} GROUP BY 1, 2, 3"
        )
        params = (plan.match, *plan.params)
    lists: Counter[str] = Counter()
    years: Counter[str] = Counter()
    months: Counter[str] = Counter()
    senders: Counter[int] = Counter()
    for list_text, month, identity, count in conn.execute(sql, params):
        for name in str(list_text).split("|"):
            if name:
                lists[name] += count
        if month:
            years[str(month)[:4]] += count
            months[str(month)] += count
        if identity:
            senders[int(identity)] += count
    facets = {
        "list": _top(lists),
        "year": sorted(years.items(), reverse=True),
        "month": sorted(months.items()),
    }
    return facets, sorted(senders.items(), key=lambda item: (-item[1], item[0]))
