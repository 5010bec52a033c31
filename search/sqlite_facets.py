"""Facet counts (list, year, month, sender identity) for the embedded backend, over the whole match
set.  Sender counts are per identity: the backend sums them into persons (`search.persons`)."""

from __future__ import annotations

import sqlite3
from collections import Counter

from search.base import FACET_SIZE
from search.fts_page import filter_docs
from search.fts_sql import FtsPlan


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE]


def compute_facets(
    conn: sqlite3.Connection, plan: FtsPlan
) -> tuple[dict[str, list[tuple[str, int]]], list[tuple[int, int]]]:
    """The list, year and month facets of the matches of `plan`, and the count per sender
    identity (every identity: exact).

    The match set is read once into a materialised CTE and grouped three times (by lists, by
    month, by identity): a single GROUP BY over all three would return a row per combination,
    ~5x more rows for a month than for a year facet, each then summed in Python.  The FTS5
    table is the outer loop (`search.fts_page`: the planner would run the MATCH again for each
    row of a `docs` index that a filter such as `from:ADDRESS` has)."""
    columns = "d.lists AS l, strftime('%Y-%m', d.date, 'unixepoch') AS mo, d.identity AS i"
    docs = filter_docs(conn, plan, joined=plan.match is not None)
    if plan.match is None:
        source = f"SELECT {columns} FROM {docs} WHERE {plan.where}"
        params: tuple[object, ...] = plan.params
    else:
        source = (
            f"SELECT {columns} FROM fts CROSS JOIN {docs} ON d.id = fts.rowid WHERE fts MATCH ? "
            f"AND {plan.where}"
        )
        params = (plan.match, *plan.params)
    sql = (
        f"WITH m AS MATERIALIZED ({source}) "
        "SELECT 0, l, count(*) FROM m GROUP BY l "
        "UNION ALL SELECT 1, mo, count(*) FROM m WHERE mo IS NOT NULL GROUP BY mo "
        "UNION ALL SELECT 2, i, count(*) FROM m WHERE i GROUP BY i"
    )
    lists: Counter[str] = Counter()
    years: Counter[str] = Counter()
    months: Counter[str] = Counter()
    senders: Counter[int] = Counter()
    for kind, value, count in conn.execute(sql, params):
        if kind == 0:
            for name in str(value).split("|"):
                if name:
                    lists[name] += count
        elif kind == 1:
            years[str(value)[:4]] += count
            months[str(value)] += count
        else:
            senders[int(value)] += count
    facets = {
        "list": _top(lists),
        "year": sorted(years.items(), reverse=True),
        "month": sorted(months.items()),
    }
    return facets, sorted(senders.items(), key=lambda item: (-item[1], item[0]))
