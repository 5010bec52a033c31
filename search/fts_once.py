"""Searches whose count costs a pass over the matches of its own: counted by their page's pass.

`matched` is the embedded backend's total and page of a search with words (`search.fts_page`
makes the statements).  Counting the matches costs little for words (~0.04 us a match: their
lists are read, nothing else), but a pass of its own for the matches a filter keeps (a
``docs_filter`` entry for each match of the words), for the matches among a sender's
documents (the words and the sender matched again), and for a phrase (its words' positions
compared again).  Those are counted by a window over what their page's pass reads
(``count(*) OVER ()``, ~0.45 us a match kept), in one statement (issue 14, task SE3).
"""

from __future__ import annotations

import sqlite3

from search import fts_page
from search.base import Sort
from search.fts_page import Row
from search.fts_parallel import Parts
from search.fts_sql import BM25, FtsPlan, order_by
from search.sqlite_schema import filter_index


def _counted(
    conn: sqlite3.Connection, plan: FtsPlan, source: str, sort: Sort, page: tuple[int, int]
) -> tuple[int, list[Row]]:
    """The total and the page (limit, offset) from one pass over the matches: their count is
    a window over what the page reads (``count(*) OVER ()``), not a pass of its own.  For the
    matches a filter keeps, whose count costs a ``docs`` entry for each match of the words
    (1M messages: ``reactor before:2005-01-01``, 56,112 of 157,738, 63 ms of its 176), and
    for a phrase of a few matches (`_few`), whose count matches the phrase once more (the
    990 of "twisted-python@twistedmatrix.com": 90 ms a pass).  The window holds every match
    kept (~0.45 us each): not for many matches of a word, which count in ~0.04 us each."""
    limit, offset = page
    params = (plan.match, *plan.params)
    if sort == "relevance":
        scored = f"SELECT fts.rowid AS id, {BM25} AS score FROM {source}"
        sql = f"SELECT id, score, count(*) OVER () FROM ({scored}) ORDER BY score LIMIT ?"
        found = conn.execute(
            sql, (*params, max(fts_page._fetched(offset + limit), fts_page._EVERY))
        ).fetchall()
        total = int(found[0][2]) if found else 0
        if total <= offset:
            return total, []
        top = [(int(i), float(s)) for i, s, _ in found]
        return total, fts_page._cut(conn, plan, scored, top, (limit, offset, total))
    sql = (
        "SELECT id, count(*) OVER () FROM (SELECT d.id AS id, d.date AS date, d.key AS key"
        f" FROM {fts_page._MATCHED} AND {plan.where}) AS d"
        f" ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
    )
    found = conn.execute(sql, (*params, limit, offset)).fetchall()
    if not found:  # none, or none from the offset on: the count says which
        return (fts_page.matched_total(conn, plan, source) if offset else 0), []
    return int(found[0][1]), fts_page._rows(conn, [(int(doc_id), 0.0) for doc_id, _ in found])


def _sender_dated(
    conn: sqlite3.Connection, plan: FtsPlan, source: str, sort: Sort, page: tuple[int, int]
) -> tuple[int, list[Row]]:
    """The total and the page (limit, offset) by date of the matches among a sender's
    documents (`match_source`: `_BY_IDS`) from one pass: their dates from the filter index,
    counted by a window; the keys, for ties of dates, of the best ones only.  Before, the
    count and the page each matched the words and the sender again (1M messages:
    ``from:"Jean-Paul Calderone" reactor``, 7,634 matches, two passes of ~55 ms)."""
    limit, offset = page
    wanted = offset + limit
    index = filter_index(conn)
    docs = "docs d" if index is None else f"docs d INDEXED BY {index}"
    dated = (
        f"SELECT d.id AS id, d.date AS date FROM {docs}"
        f" WHERE d.id IN (SELECT fts.rowid FROM {source})"
    )
    way = "ASC" if sort == "date_asc" else "DESC"
    params = (plan.match, *plan.params)
    sql = f"SELECT id, date, count(*) OVER () FROM ({dated}) ORDER BY date {way} NULLS LAST LIMIT ?"
    found = conn.execute(sql, (*params, fts_page._fetched(wanted))).fetchall()
    total = int(found[0][2]) if found else 0
    if total <= offset:
        return total, []

    def rank(date: int | None) -> tuple[bool, int]:
        return (date is None, 0 if date is None else (date if way == "ASC" else -date))

    top = [(int(doc_id), date) for doc_id, date, _ in found]
    if len(top) > wanted:
        last = top[wanted - 1][1]
        if len(top) < total and top[-1][1] == last:  # ties run past what was read
            top = [(int(doc_id), date) for doc_id, date in conn.execute(dated, params)]
        top = [pair for pair in top if rank(pair[1]) <= rank(last)]
    keys = fts_page._keys(conn, [doc_id for doc_id, _ in top])
    top.sort(key=lambda pair: (rank(pair[1]), keys.get(pair[0], b"")))
    return total, fts_page._rows(conn, [(doc_id, 0.0) for doc_id, _ in top[offset:wanted]])


def _few(conn: sqlite3.Connection, plan: FtsPlan, sort: Sort, wanted: int) -> bool:
    """Whether `plan` is a phrase of several words without filters that matches at most
    about `_EVERY` documents (and, by date, too few for the date index to be walked:
    `_by_date`), judged from its matches among the last 1/`_SAMPLE` of the ids: FTS5 seeks
    its lists there, a sixteenth of the phrase's cost (an upper bound would not stop a
    phrase's scan before its next match: ``rowid <= 1`` costs all 8 ms of the phrase of
    "http://twistedmatrix.com/trac/ticket/1234", which matches none).  Only such a phrase
    costs more to count than its matches cost to hold (`_counted`): its words' lists are
    read in full and their positions compared in every document that has them all (1M
    messages: "twisted python twistedmatrix com", 990 matches among the 318,959 documents
    holding the four words, 90 ms a pass; "perspective broker", 12,947, is counted in 2 ms)."""
    if plan.where != "1" or plan.match is None:
        return False
    if not any(" " in words for words in fts_page._STRING.findall(plan.match)):
        return False
    documents = fts_page._documents(conn)
    (seen,) = conn.execute(
        "SELECT count(*) FROM fts WHERE fts MATCH ? AND rowid > ?",
        (plan.match, documents - documents // fts_page._SAMPLE),
    ).fetchone()
    expected = int(seen) * fts_page._SAMPLE  # none seen: no guess (a count of none costs little)
    return 0 < expected <= fts_page._EVERY and (
        sort == "relevance" or expected**2 <= wanted * documents
    )


def matched(
    conn: sqlite3.Connection,
    plan: FtsPlan,
    sort: Sort,
    page: tuple[int, int],
    parts: Parts | None = None,
) -> tuple[int, list[Row]]:
    """The total of the matches of `plan` (which has a MATCH) and the rows (`FIELDS`, id,
    score) of one page (limit, offset) of them; one pass of the matches when their count
    costs more than holding them (`_counted`), else a count and the page (`matched_page`),
    a relevance page of very many matches scored in rowid ranges at once when `parts` says
    so (`search.fts_parallel`)."""
    limit, offset = page
    source = fts_page.match_source(conn, plan)
    if 0 < limit and offset + limit <= fts_page._DEEP:
        if (sort == "relevance" and plan.where != "1") or _few(conn, plan, sort, offset + limit):
            return _counted(conn, plan, source, sort, page)
        if source.startswith(fts_page._BY_IDS):
            return _sender_dated(conn, plan, source, sort, page)
    total = fts_page.matched_total(conn, plan, source)
    if limit == 0 or total <= offset:
        return total, []
    if (
        parts is not None
        and sort == "relevance"
        and offset + limit <= fts_page._DEEP
        and parts.applies(plan, total)
    ):
        rows = parts.ranked(conn, plan, (limit, offset, total))
        if rows is not None:
            return total, rows
    return total, fts_page.matched_page(conn, plan, source, sort, (limit, offset, total))
