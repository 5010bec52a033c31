"""The total and one page of an embedded-backend search: the SQL over ``fts`` and ``docs``.

What a search costs is mostly here (issue 14), so each query reads as little as it can:

* The FTS5 table is the outer loop of every join (``fts CROSS JOIN docs``): left to itself,
  SQLite's planner starts from a ``docs`` index when a filter has one (``from:ADDRESS``) and
  then runs the whole MATCH again for each of those rows (256 ms for
  ``from:glyph@twistedmatrix.com deferred`` on twisted-python, 8 ms the other way round).
* A page ranked by relevance is chosen by rowid and score alone (bm25 over every match,
  nothing else carried through the sort), and only its rows are read from ``docs``; without
  filters ``docs`` is not joined at all.  Ties are broken by key as before: when the score of
  the last row of the page is also the score of the next match, the page is chosen by the
  full ``(score, key)`` order instead, so pages never change.
* A page sorted by date walks the date index, keeping the matches, when the matches are
  many enough for the page to fill early (`_by_date`); otherwise it reads the date of each
  match.  Only the page's rows are read whole.

No snippet is made here: `search.sqlite_fts` makes one for each row of the page only.
"""

from __future__ import annotations

import sqlite3

from search.base import Sort
from search.fts_sql import BM25, FtsPlan, order_by

FIELDS = "d.key, d.message_id, d.lists, d.subject, d.from_name, d.from_addr, d.date, d.thread_id"
"""The columns of a hit (`SqliteFtsBackend._hit`), then its ``id`` and score follow."""

Row = tuple[str | int | float | None, ...]

_MATCHED = "fts CROSS JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?"


def matched_total(conn: sqlite3.Connection, plan: FtsPlan) -> int:
    """How many documents match `plan` (which has a MATCH)."""
    if plan.where == "1":
        sql = "SELECT count(*) FROM fts WHERE fts MATCH ?"
    else:
        sql = f"SELECT count(*) FROM {_MATCHED} AND {plan.where}"
    (total,) = conn.execute(sql, (plan.match, *plan.params)).fetchone()
    return int(total)


def _rows(conn: sqlite3.Connection, ranked: list[tuple[int, float]]) -> list[Row]:
    """The hit rows of `ranked` (id, score) pairs, in their order."""
    if not ranked:
        return []
    marks = ", ".join("?" * len(ranked))
    sql = f"SELECT {FIELDS}, d.id FROM docs d WHERE d.id IN ({marks})"
    found = {int(row[8]): row for row in conn.execute(sql, [doc_id for doc_id, _ in ranked])}
    return [(*found[doc_id], score) for doc_id, score in ranked if doc_id in found]


def _by_score_and_key(row: Row) -> tuple[float, bytes]:
    # SQLite compares TEXT as UTF-8 bytes: so does this
    return float(row[9] or 0.0), str(row[0]).encode("utf-8", "surrogatepass")


def _ranked(conn: sqlite3.Connection, plan: FtsPlan, limit: int, offset: int) -> list[Row]:
    """The page ranked by (bm25, key), bm25 lower is better."""
    params = (plan.match, *plan.params)
    source = "fts WHERE fts MATCH ?" if plan.where == "1" else f"{_MATCHED} AND {plan.where}"
    wanted = offset + limit
    sql = f"SELECT fts.rowid, {BM25} AS score FROM {source} ORDER BY score LIMIT ?"
    top = conn.execute(sql, (*params, wanted + 1)).fetchall()
    if len(top) <= wanted or top[wanted - 1][1] != top[wanted][1]:
        # every match scoring at most the page's last score is in `top`: the key orders ties
        rows = _rows(conn, [(int(doc_id), float(score)) for doc_id, score in top[:wanted]])
        return sorted(rows, key=_by_score_and_key)[offset:]
    # a tie across the page's end: the key decides which of the tied matches are in it
    sql = (
        f"SELECT fts.rowid, {BM25} AS score FROM {_MATCHED} AND {plan.where}"
        " ORDER BY score, d.key LIMIT ? OFFSET ?"
    )
    ranked = [(int(i), float(s)) for i, s in conn.execute(sql, (*params, limit, offset))]
    return _rows(conn, ranked)


def _by_date(
    conn: sqlite3.Connection, plan: FtsPlan, sort: Sort, limit: int, offset: int, total: int
) -> list[Row]:
    """The page by date.  Reading the date of every match costs a ``docs`` row each (15 ms
    for the 6,656 of "reactor" on twisted-python); walking the date index until the page is
    full costs the entries walked, about ``(offset + limit) * documents / total`` of them
    (1 ms for "reactor"), but every entry for a word that matches only a few.  So the index
    is walked when fewer than ``total`` entries are expected, which also bounds the walk by
    what the join would have cost."""
    (documents,) = conn.execute("SELECT max(id) FROM docs").fetchone()
    if (offset + limit) * int(documents or 0) < total * total:
        # `+d.id`: not a rowid lookup per match (the join again) but one pass of the index
        sql = (
            "SELECT d.id FROM docs d WHERE +d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
            f" AND {plan.where} ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
        )
    else:
        sql = (
            f"SELECT fts.rowid FROM {_MATCHED} AND {plan.where}"
            f" ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
        )
    ids = conn.execute(sql, (plan.match, *plan.params, limit, offset)).fetchall()
    return _rows(conn, [(int(doc_id), 0.0) for (doc_id,) in ids])


def matched_page(
    conn: sqlite3.Connection, plan: FtsPlan, sort: Sort, limit: int, offset: int, total: int
) -> list[Row]:
    """The rows (`FIELDS`, id, score) of one page of the `total` matches of `plan`
    (0 < limit, offset < total)."""
    if sort == "relevance":
        return _ranked(conn, plan, limit, offset)
    return _by_date(conn, plan, sort, limit, offset, total)


def filtered_total(conn: sqlite3.Connection, plan: FtsPlan) -> int:
    """How many documents `plan` (which has no MATCH) selects."""
    (total,) = conn.execute(
        f"SELECT count(*) FROM docs d WHERE {plan.where}", plan.params
    ).fetchone()
    return int(total)


def filtered_page(
    conn: sqlite3.Connection, plan: FtsPlan, sort: Sort, limit: int, offset: int
) -> list[Row]:
    """The rows (`FIELDS`, id, score 0) of one page of a query without words, by date."""
    sql = (
        f"SELECT {FIELDS}, d.id, 0.0 FROM docs d WHERE {plan.where}"
        f" ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
    )
    return list(conn.execute(sql, (*plan.params, limit, offset)).fetchall())
