"""Facet counts (list, year, sender) for the embedded backend, over the whole match set."""

from __future__ import annotations

import sqlite3
from collections import Counter

from search.base import FACET_SIZE
from search.fts_sql import FtsPlan


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]


def compute_facets(conn: sqlite3.Connection, plan: FtsPlan) -> dict[str, list[tuple[str, int]]]:
    """Count the matches of `plan` per list, per year and per sender address."""
    groups = "SELECT d.lists, strftime('%Y', d.date, 'unixepoch'), lower(d.from_addr), count(*)"
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
    senders: Counter[str] = Counter()
    for list_text, year, sender, count in conn.execute(sql, params):
        for name in str(list_text).split("|"):
            if name:
                lists[name] += count
        if year:
            years[str(year)] += count
        if sender:
            senders[str(sender)] += count
    return {
        "list": _top(lists),
        "year": sorted(years.items(), reverse=True),
        "sender": _top(senders),
    }
