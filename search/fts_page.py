"""The total and one page of an embedded-backend search: the SQL over ``fts`` and ``docs``.

What a search costs is mostly here (issue 14), so each query reads as little as it can:

* The FTS5 table is the outer loop of every join (``fts CROSS JOIN docs``): left to itself,
  SQLite's planner starts from a ``docs`` index when a filter has one (``from:ADDRESS``) and
  then runs the whole MATCH again for each of those rows (256 ms for
  ``from:glyph@twistedmatrix.com deferred`` on twisted-python, 8 ms the other way round).
* A page ranked by relevance is chosen by rowid and score alone (bm25 over every match,
  nothing else carried through the sort), and only its rows are read from ``docs``; without
  filters ``docs`` is not joined at all.  Ties are broken by key as before (`_ranked`), so
  pages do not change.  A deep page (past `_DEEP` matches) is sorted by SQLite as before
  (`_sorted`): what Python would read for it grows with its depth.
* A page sorted by date walks the date index, keeping the matches, when the matches are
  many enough for the page to fill early (`_by_date`); otherwise it reads the date of each
  match.  Only the page's rows are read whole.

A search whose count would cost a pass of its own (filters, a sender's documents, a phrase
of few matches) is counted by its page's pass: `search.fts_once`.

No snippet is made here: `search.sqlite_fts` makes one for each row of the page only.
"""

from __future__ import annotations

import re
import sqlite3

from search.base import Sort
from search.fts_sql import BM25, FtsPlan, order_by
from search.sqlite_schema import FILTER_COLUMNS, date_index, filter_index

FIELDS = "d.key, d.message_id, d.lists, d.subject, d.from_name, d.from_addr, d.date, d.thread_id"
"""The columns of a hit (`SqliteFtsBackend._hit`), then its ``id`` and score follow."""

Row = tuple[str | int | float | None, ...]

_MATCHED = "fts CROSS JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?"
_BY_IDS = "fts WHERE fts MATCH ? AND +fts.rowid IN "
"""How `match_source` starts when it gives the matches among a sender's documents."""
_CHUNK = 500
_SLACK = 64
"""Matches read past the page when ranking, so that ties with its last score are seen."""
_EVERY = 2_000
"""A relevance page of at most this many matches reads them all at once, rather than the
best ones and then, when ties run past them, every match again (1M messages:
"twisted-python@twistedmatrix.com", 990 matches, more tied than the slack: 2 scored passes
of ~155 ms CPU each -> 1)."""
_SAMPLE = 16
_STRING = re.compile(r'"([^"]*)"')
"""A quoted FTS5 string of several words (`search.fts_sql.fts_string`)."""
_DEEP = 20_000
"""A relevance page ending past this many matches is sorted by SQLite (`_sorted`): the
matches read into Python before it would grow with the page's depth (a cursor's offset is
the reader's to choose).  On the 300k copy, "twisted" (259,885 matches), 20 hits at offset
1,000 / 20,000 / the last: 0.33 / 0.61 / 2.24 s CPU and 18 / 25 / 104 MB peak RSS read here,
0.58 / 0.68 / 1.34 s and 18-20 MB sorted by SQLite (load 5-6)."""


_COLUMN = re.compile(r"\bd\.(\w+)")
_OWN_INDEXES = {"date", "identity"}


def filter_docs(conn: sqlite3.Connection, plan: FtsPlan, *, joined: bool = True) -> str:
    """``docs d`` for the filters of `plan`, read through the narrow filter index
    (`search.sqlite_schema.FILTER_INDEX`) when it holds every column they name, instead of
    the ``docs`` rows (~240 bytes each, 4x the index's entry): for each match of a MATCH
    (300k messages: counting "deferred" after 2010, 35,757 matches, 16.0 -> 9.5 ms CPU), or
    for the documents a filter alone selects (`joined` false) when it names no date or
    identity (whose own indexes the planner
    takes: a date range walks the wide date index, which holds the lists too:
    ``list:p01-python after:2014-09-01`` 58 -> 16 ms a search).  SQLite's planner prefers
    the rowid, hence ``INDEXED BY``."""
    names = set(_COLUMN.findall(plan.where))
    if not names <= set(FILTER_COLUMNS) or (not joined and names & _OWN_INDEXES):
        return "docs d"
    index = filter_index(conn)
    return "docs d" if index is None else f"docs d INDEXED BY {index}"


def _documents(conn: sqlite3.Connection) -> int:
    (last,) = conn.execute("SELECT max(id) FROM docs").fetchone()
    return int(last or 0)


def match_source(conn: sqlite3.Connection, plan: FtsPlan) -> str:
    """The FROM and WHERE of the matches of `plan` (parameters: the match, then its own).

    A filter on senders (`FtsPlan.by_sender`: ``from:``, ``person:``) lists its documents
    from the sender indexes when the words match many (more than a twentieth of the index,
    by the unfiltered count): that set of ids costs less than reading a ``docs`` row for
    each match (300k messages: ``from:glyph@twistedmatrix.com deferred`` 199 -> 19 ms CPU,
    ``from:"Jean-Paul Calderone" reactor`` 207 -> 53).  Not for dates: a year of a big
    archive is a set of ids that costs more to build than the rows it saves
    (``nevow after:2010-01-01``: 28 -> 148 ms)."""
    if plan.where == "1":
        return "fts WHERE fts MATCH ?"
    matched = f"fts CROSS JOIN {filter_docs(conn, plan)} ON d.id = fts.rowid WHERE fts MATCH ?"
    if plan.by_sender:
        (matches,) = conn.execute(
            "SELECT count(*) FROM fts WHERE fts MATCH ?", (plan.match,)
        ).fetchone()
        if int(matches) * 20 > _documents(conn):
            ids = f"SELECT d.id FROM {filter_docs(conn, plan, joined=False)} WHERE {plan.where}"
            return f"{_BY_IDS}({ids})"
    return f"{matched} AND {plan.where}"


def matched_total(conn: sqlite3.Connection, plan: FtsPlan, source: str) -> int:
    """How many documents match `plan` (which has a MATCH) from `source` (`match_source`)."""
    (total,) = conn.execute(f"SELECT count(*) FROM {source}", (plan.match, *plan.params)).fetchone()
    return int(total)


def _rows(conn: sqlite3.Connection, ranked: list[tuple[int, float]]) -> list[Row]:
    """The hit rows of `ranked` (id, score) pairs, in their order."""
    found: dict[int, Row] = {}
    for start in range(0, len(ranked), _CHUNK):  # a page may be longer than SQLite's limit
        chunk = [doc_id for doc_id, _ in ranked[start : start + _CHUNK]]
        sql = f"SELECT {FIELDS}, d.id FROM docs d WHERE d.id IN ({', '.join('?' * len(chunk))})"
        found.update((int(row[8]), row) for row in conn.execute(sql, chunk))
    return [(*found[doc_id], score) for doc_id, score in ranked if doc_id in found]


def _keys(conn: sqlite3.Connection, ids: list[int]) -> dict[int, bytes]:
    """The keys of documents `ids`, as UTF-8 (SQLite orders TEXT by its bytes)."""
    found: dict[int, bytes] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sql = f"SELECT id, key FROM docs WHERE id IN ({', '.join('?' * len(chunk))})"
        for doc_id, key in conn.execute(sql, chunk):
            found[int(doc_id)] = str(key).encode("utf-8", "surrogatepass")
    return found


def _ranked(
    conn: sqlite3.Connection, plan: FtsPlan, source: str, page: tuple[int, int, int]
) -> list[Row]:
    """The page (limit, offset, total) ranked by (bm25, key), bm25 lower is better.

    The best ``offset + limit`` matches by score are read with some more (`_SLACK`): the
    matches that tie with the page's last score are then all among them (copies of one
    message in several lists score alike) unless they run past what was read, and then they
    are read in a second pass, without a sort.  At most `_EVERY` matches are all read at
    once (no second pass, whatever the ties).  Ties are ordered by key in Python.  A page
    ending past `_DEEP` matches is left to SQLite's sort (`_sorted`)."""
    limit, offset, total = page
    wanted = offset + limit
    if wanted > _DEEP:
        return _sorted(conn, plan, limit, offset)
    params = (plan.match, *plan.params)
    scored = f"SELECT fts.rowid AS id, {BM25} AS score FROM {source}"
    if total <= _EVERY:
        top = [(int(i), float(s)) for i, s in conn.execute(scored, params)]
    else:
        sql = f"{scored} ORDER BY score LIMIT ?"
        top = [(int(i), float(s)) for i, s in conn.execute(sql, (*params, _fetched(wanted)))]
    return _cut(conn, plan, scored, top, (limit, offset, total))


def _fetched(wanted: int) -> int:
    return wanted + max(wanted, _SLACK)


def _cut(
    conn: sqlite3.Connection,
    plan: FtsPlan,
    scored: str,
    top: list[tuple[int, float]],
    page: tuple[int, int, int],
) -> list[Row]:
    """The rows of the page (limit, offset, total) from `top`, the best (id, score) pairs of
    the matches (all of them, or a prefix by score); the ones tied with the page's last score
    are read again from `scored` when they may run past `top`."""
    limit, offset, total = page
    wanted = offset + limit
    top.sort(key=lambda pair: pair[1])
    if len(top) > wanted:
        last = top[wanted - 1][1]
        if len(top) < total and top[-1][1] == last:
            sql = f"SELECT id, score FROM ({scored}) WHERE score <= ?"
            top = [
                (int(i), float(s)) for i, s in conn.execute(sql, (plan.match, *plan.params, last))
            ]
        top = [pair for pair in top if pair[1] <= last]
    return keyed_rows(conn, top, page)


def keyed_rows(
    conn: sqlite3.Connection, top: list[tuple[int, float]], page: tuple[int, int, int]
) -> list[Row]:
    """The rows of the page (limit, offset, total) of `top`, (id, score) pairs that hold
    every match scoring up to the page's last score: ordered by (score, key)."""
    limit, offset, _ = page
    keys = _keys(conn, [doc_id for doc_id, _ in top])
    top.sort(key=lambda pair: (pair[1], keys.get(pair[0], b"")))
    return _rows(conn, top[offset : offset + limit])


def _sorted(conn: sqlite3.Connection, plan: FtsPlan, limit: int, offset: int) -> list[Row]:
    """A deep page ranked by (bm25, key), the whole order kept by SQLite's sorter (which holds
    ``offset + limit`` rows of two columns, not a Python pair and key for each match)."""
    sql = (
        f"SELECT fts.rowid, {BM25} FROM {_MATCHED} AND {plan.where}"
        f" ORDER BY {order_by(plan, 'relevance')} LIMIT ? OFFSET ?"
    )
    found = conn.execute(sql, (plan.match, *plan.params, limit, offset)).fetchall()
    return _rows(conn, [(int(doc_id), float(score)) for doc_id, score in found])


def _by_date(
    conn: sqlite3.Connection, plan: FtsPlan, source: str, sort: Sort, page: tuple[int, int, int]
) -> list[Row]:
    """The page by date.  Reading the date of every match costs a ``docs`` row each (15 ms
    for the 6,656 of "reactor" on twisted-python); walking the date index until the page is
    full costs the entries walked, about ``(offset + limit) * documents / total`` of them
    (1 ms for "reactor"), but every entry for a word that matches only a few.  So the index
    is walked when fewer than ``total`` entries are expected, which also bounds the walk by
    what the join would have cost.  The matches among a sender's documents (`match_source`)
    are that set, not every match of the words with the sender's set beside it, nor a
    ``docs`` row for each match of the words (1M messages, by date:
    ``from:glyph@twistedmatrix.com deferred`` 150 -> 39 ms CPU,
    ``from:"Jean-Paul Calderone" reactor`` 158 -> 113).  Likewise the few matches left by
    other filters are found through the filter index, and only their rows read (1M:
    ``nevow after:2010-01-01``, 3,132 of 58,097 matches, by date 157 -> 69 ms CPU)."""
    limit, offset, total = page
    order = f"ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
    if source.startswith(_BY_IDS):
        sql = f"SELECT d.id FROM docs d WHERE +d.id IN (SELECT fts.rowid FROM {source}) {order}"
        if (offset + limit) * _documents(conn) >= total * total:  # a few: their rows
            sql = f"SELECT d.id FROM docs d WHERE d.id IN (SELECT fts.rowid FROM {source}) {order}"
    elif (offset + limit) * _documents(conn) < total * total:
        # `+d.id`: not a rowid lookup per match (the join again) but one pass of the index
        sql = (
            "SELECT d.id FROM docs d WHERE +d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
            f" AND {plan.where} ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
        )
    elif plan.where != "1":  # a few after the filters, which the filter index answers
        sql = f"SELECT d.id FROM docs d WHERE d.id IN (SELECT fts.rowid FROM {source}) {order}"
    else:
        sql = (
            f"SELECT fts.rowid FROM {_MATCHED} AND {plan.where}"
            f" ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
        )
    ids = conn.execute(sql, (plan.match, *plan.params, limit, offset)).fetchall()
    return _rows(conn, [(int(doc_id), 0.0) for (doc_id,) in ids])


def matched_page(
    conn: sqlite3.Connection,
    plan: FtsPlan,
    source: str,
    sort: Sort,
    page: tuple[int, int, int],
) -> list[Row]:
    """The rows (`FIELDS`, id, score) of one page (limit, offset, total: 0 < limit, offset <
    total) of the matches of `plan` from `source` (`match_source`)."""
    limit, offset, total = page
    if sort == "relevance":
        return _ranked(conn, plan, source, page)
    return _by_date(conn, plan, source, sort, page)


def filtered_total(conn: sqlite3.Connection, plan: FtsPlan) -> int:
    """How many documents `plan` (which has no MATCH) selects."""
    (total,) = conn.execute(
        f"SELECT count(*) FROM {filter_docs(conn, plan, joined=False)} WHERE {plan.where}",
        plan.params,
    ).fetchone()
    return int(total)


def filtered_page(
    conn: sqlite3.Connection, plan: FtsPlan, sort: Sort, page: tuple[int, int, int]
) -> list[Row]:
    """The rows (`FIELDS`, id, score 0) of one page (limit, offset, total) of a query without
    words, by date.  When the page fills early (as `_by_date` decides), the date index is
    walked whatever the filters, not their documents read and sorted (1M messages:
    ``from:itamar``, 41,721 documents, 90 -> 25 ms CPU for the page)."""
    limit, offset, total = page
    docs = "docs d"
    if (offset + limit) * _documents(conn) < total * total:
        name = date_index(conn)
        docs = docs if name is None else f"docs d INDEXED BY {name}"
    sql = (
        f"SELECT {FIELDS}, d.id, 0.0 FROM {docs} WHERE {plan.where}"
        f" ORDER BY {order_by(plan, sort)} LIMIT ? OFFSET ?"
    )
    return list(conn.execute(sql, (*plan.params, limit, offset)).fetchall())
