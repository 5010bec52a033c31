"""A relevance page of very many matches scored in rowid ranges on several cores (issue 14).

Exact bm25 costs ~0.8 us a match inside FTS5 (`search.fts_page`): the commonest words of a
million messages (``reactor``, 157,738 matches) take ~140 ms a search, all of it in one
statement.  The same statement over ``rowid <= m`` and ``rowid > m`` on two connections, in
two threads (`sqlite3` releases the GIL while a statement steps), scores half the matches
each; each part's best ``offset + limit`` (and some more, `fts_page._fetched`) are merged.

Exact, because FTS5's bm25 takes its statistics from the whole table whatever the rows a
statement visits (``fts5Bm25GetData`` in fts5_aux.c: the row count ``xRowCount`` and the
token total ``xColumnTotalSize`` of the table, each phrase's document count from
``xQueryPhrase``, which runs the phrase over the whole table): a document scores the same,
bit for bit, in a part as in the one pass (tests/search/test_fts_parallel.py checks it).  Ties
are broken by key after the merge, as `fts_page._cut` does; a part whose last score read ties
with the page's last score may hold more of those ties, which are then read in one pass.

The parts must read one snapshot: the extra connections start their read transactions after
the search's own, so each compares the index's generation (the FTS5 averages and structure
records, which every write to the index changes: the row count and token total, the count of
segments written, and the schema cookie, which a rebuild's swap changes) with the search's;
if one differs (a sync committed in between), or a part fails, the page is made in one pass
(`fts_page.matched_page`), as without this module.  Only a plain search (no filter) is split:
a filter's matches are counted by their page (`search.fts_once`), a phrase's bm25 runs the
phrase over the whole table once a statement (~90 ms for the address phrase at 1M), which
each part would pay again.

The extra connections and the threads belong to the backend (`Parts`): opened at its first
split, closed with it.  CPU time is about unchanged (each part also counts its phrases' hits
for their IDF: ~0.04 us a match); the wall time halves when a core is idle.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from search import fts_page
from search.fts_page import Row
from search.fts_sql import BM25, FtsPlan
from search.sqlite_schema import LIVE

logger = logging.getLogger(__name__)

Pairs = list[tuple[int, float]]

_GENERATION = f"SELECT id, block FROM {LIVE.fts}_data WHERE id IN (1, 10) ORDER BY id"
"""FTS5's averages record (rowid 1: rows, token totals) and structure record (rowid 10: the
segments, with the count of level-0 segments ever written): a commit that writes to the
index changes one or both."""


def generation(conn: sqlite3.Connection) -> tuple[object, ...]:
    """What identifies the index's content in the snapshot `conn` reads (in a transaction)."""
    (cookie,) = conn.execute("PRAGMA schema_version").fetchone()
    return (cookie, *conn.execute(_GENERATION).fetchall())


class Parts:
    """The extra connections (``threads - 1``) and threads of a backend's split searches."""

    def __init__(self, path: Path, *, threads: int = 2, min_matches: int = 100_000) -> None:
        self.path = path
        self.threads = max(1, threads)
        self.min_matches = min_matches
        self._conns: list[sqlite3.Connection] = []
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def applies(self, plan: FtsPlan, total: int) -> bool:
        """Whether a relevance page of `plan`'s `total` matches is split."""
        return (
            self.threads > 1
            and total >= self.min_matches
            and total > fts_page._EVERY
            and plan.where == "1"
            and plan.match is not None
            and not any(" " in words for words in fts_page._STRING.findall(plan.match))
        )

    def _open(self) -> tuple[list[sqlite3.Connection], ThreadPoolExecutor]:
        with self._lock:
            if self._pool is None:
                for _ in range(self.threads - 1):
                    conn = sqlite3.connect(
                        self.path, isolation_level=None, check_same_thread=False, timeout=10.0
                    )
                    conn.execute("PRAGMA cache_size = -65536")
                    self._conns.append(conn)
                self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="fts-part")
            return self._conns, self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            for conn in self._conns:
                conn.close()
            self._conns = []

    def ranked(
        self, conn: sqlite3.Connection, plan: FtsPlan, page: tuple[int, int, int]
    ) -> list[Row] | None:
        """The page (limit, offset, total) of `plan` by relevance, its matches scored in
        `threads` rowid ranges at once; None when it must be made in one pass instead (the
        parts read different snapshots, or one failed).  `conn` is the search's, in its read
        transaction."""
        limit, offset, total = page
        wanted = offset + limit
        fetched = fts_page._fetched(wanted)
        (low, high) = conn.execute(_RANGE).fetchone()
        if low is None:
            return None
        bounds = _bounds(int(low) - 1, int(high), self.threads)
        seen = generation(conn)
        try:
            extra, pool = self._open()
            futures: list[Future[Pairs | None]] = [
                pool.submit(_part, other, plan, seen, (bounds[i + 1], bounds[i + 2], fetched))
                for i, other in enumerate(extra)
            ]
        except (sqlite3.Error, RuntimeError) as exc:
            logger.warning("search index %s: no second connection (%s): one pass", self.path, exc)
            return None
        first: Pairs | None = None
        try:
            first = _scored(conn, plan, (bounds[0], bounds[1], fetched))
        except sqlite3.Error:
            logger.warning("a search part failed: one pass", exc_info=True)
        finally:
            parts = [_result(future) for future in futures]
        if first is None or any(part is None for part in parts):
            return None
        every = [first, *(part for part in parts if part is not None)]
        return _merged(conn, plan, every, fetched, page)


def _bounds(low: int, high: int, count: int) -> list[int]:
    """`count` rowid ranges ``(bounds[i], bounds[i + 1]]`` covering ``(low, high]``."""
    step = (high - low) / count
    return [low, *(low + round(step * i) for i in range(1, count)), high]


_RANGE = "SELECT (SELECT min(id) FROM docs), (SELECT max(id) FROM docs)"
"""The ids' range, each end from the rowid b-tree (``SELECT min(id), max(id)`` in one
query scans the table: ~100 ms at 1M)."""
_SCORED = f"SELECT fts.rowid AS id, {BM25} AS score FROM fts WHERE fts MATCH ?"


def _scored(conn: sqlite3.Connection, plan: FtsPlan, part: tuple[int, int, int]) -> Pairs:
    """The best `fetched` (id, score) pairs of the matches with ``low < rowid <= high``."""
    low, high, fetched = part
    sql = f"{_SCORED} AND fts.rowid > ? AND fts.rowid <= ? ORDER BY score LIMIT ?"
    found = conn.execute(sql, (plan.match, *plan.params, low, high, fetched))
    return [(int(i), float(s)) for i, s in found]


def _begin(conn: sqlite3.Connection) -> tuple[object, ...]:
    """Start a read transaction on `conn`; its snapshot's `generation`."""
    conn.execute("BEGIN")
    return generation(conn)


def _part(
    conn: sqlite3.Connection, plan: FtsPlan, seen: tuple[object, ...], part: tuple[int, int, int]
) -> Pairs | None:
    """A part scored on an extra connection, in a pool thread; None when its snapshot is not
    the search's (`seen`)."""
    try:
        if _begin(conn) != seen:
            logger.debug("search index changed between the parts' snapshots: one pass")
            return None
        return _scored(conn, plan, part)
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _result(future: Future[Pairs | None]) -> Pairs | None:
    try:
        return future.result()
    except Exception:  # a part's failure is the one pass's answer, never an error
        logger.warning("a search part failed: one pass", exc_info=True)
        return None


def _merged(
    conn: sqlite3.Connection,
    plan: FtsPlan,
    parts: list[Pairs],
    fetched: int,
    page: tuple[int, int, int],
) -> list[Row]:
    """The page from the parts' best pairs: every match scoring up to the page's last score
    is among them unless a part that read `fetched` pairs ended on that score (it may hold
    more of its ties): then those are read in one pass, as `fts_page._cut` does."""
    limit, offset, total = page
    wanted = offset + limit
    top = sorted((pair for part in parts for pair in part), key=lambda pair: pair[1])
    if len(top) > wanted:
        last = top[wanted - 1][1]
        if any(len(part) >= fetched and part[-1][1] == last for part in parts):
            sql = f"SELECT id, score FROM ({_SCORED}) WHERE score <= ?"
            top = [
                (int(i), float(s)) for i, s in conn.execute(sql, (plan.match, *plan.params, last))
            ]
        top = [pair for pair in top if pair[1] <= last]
    return fts_page.keyed_rows(conn, top, (limit, offset, total))
