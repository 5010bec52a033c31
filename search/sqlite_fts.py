"""The embedded search backend: SQLite FTS5 in its own database file (not the store's).

Layout: ``docs`` holds the filterable and displayed fields (``id`` = FTS rowid, ``key`` unique,
``lists`` as ``|a|b|``, ``date`` as epoch seconds or NULL, ``private`` 1 for a message of
private archives only, left out of searches unless they include private messages;
``identity`` the sender's store identity, for ``person:`` and the sender facet); the FTS5
table ``fts`` indexes ``subject``, ``sender`` (name and address), ``body_own`` and
``body_quoted`` with the ``unicode61 remove_diacritics 2`` tokenizer and ranks with bm25 weights
5 / 3 / 1 / 0.3; ``meta`` holds ``schema_version`` and the indexer ``checkpoint``. An index with
another schema version is dropped and recreated empty with checkpoint 0, so the indexer rebuilds
it from the store.  A rebuild (`clear` ... `finish_rebuild`) fills new tables beside the live
ones and swaps them in one transaction (`search.sqlite_schema`), so searches always see a
complete index.

The FTS5 table is contentless (issue 14: the store holds the text, a second copy here cost
more than the inverted index).  Snippets and FTS5's ``'delete'`` command (given the exact
values a document was indexed with when it is replaced or removed) read the bodies back from
the store (`search.fts_texts`: ``docs.text_hash`` recognises the indexed ones; only a long
body's are kept here, in ``docs.texts``).

Indexed text is bounded (`search.snippets.TextLimits`: at most ``max_indexed_bytes`` of body
text per message).  Snippets are made in Python (`search.fts_hits`) from the first
``max_snippet_bytes`` of ``body_own`` (then ``body_quoted``, then the subject), with matches
wrapped in `HIGHLIGHT_START` (``\\x02``) and `HIGHLIGHT_END` (``\\x03``): FTS5's
``snippet()`` costs time quadratic in a column's length, which a big message turns into minutes.

One connection (WAL mode, autocommit, explicit ``BEGIN IMMEDIATE`` for writes) is shared by the
instance's callers under a lock; SQLite errors surface as `SearchUnavailableError`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from search import fts_once, fts_page
from search.base import (
    Hit,
    PersonResolver,
    SearchResult,
    SearchUnavailableError,
    Sort,
)
from search.cursor import decode_cursor, encode_cursor
from search.fts_hidden import without_keys
from search.fts_hits import page_hits, public_only
from search.fts_page import Row
from search.fts_parallel import Parts
from search.fts_sql import FtsPlan, build_plan
from search.fts_texts import StoreTexts, TextSource, doc_row, sender_text, unindex
from search.persons import resolve_query, sender_facet
from search.query import DEFAULT_LIMITS, HIGHLIGHT_END, HIGHLIGHT_START, QueryLimits, parse_query
from search.snippets import DEFAULT_TEXT_LIMITS, TextLimits, bounded_doc, highlight_phrases
from search.sqlite_facets import compute_facets
from search.sqlite_schema import (
    LIVE,
    NEXT,
    SCHEMA_VERSION,
    begin_build,
    ensure_live,
    is_live,
    swap_in,
)
from store.files import PAGE_SIZE, create_private

if TYPE_CHECKING:  # a search makes no IndexDoc (issue 14)
    from search.index_doc import IndexDoc

__all__ = ["HIGHLIGHT_END", "HIGHLIGHT_START", "SCHEMA_VERSION", "SqliteFtsBackend"]

logger = logging.getLogger(__name__)

_CHUNK = 500


def _relevance(row: Row) -> float:
    return -float(row[9] or 0.0)


def _unscored(row: Row) -> float:
    return 0.0


class SqliteFtsBackend:
    """`SearchBackend` over an SQLite FTS5 database file at `path`."""

    name = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        limits: QueryLimits = DEFAULT_LIMITS,
        text_limits: TextLimits = DEFAULT_TEXT_LIMITS,
        texts: TextSource | None = None,
        parallel_threads: int = 1,
        parallel_min_matches: int = 100_000,
    ) -> None:
        self.path = path
        self.parts = Parts(path, threads=parallel_threads, min_matches=parallel_min_matches)
        """Connections and threads of the relevance searches split by rowid (`fts_parallel`)."""
        self.limits = limits
        self.text_limits = text_limits
        self.texts = texts if texts is not None else StoreTexts(path.parent / "store.db")
        """Where indexed bodies are read back from: the store beside the index file."""
        self._lock = threading.Lock()
        self._tables = LIVE
        """The tables writes go to: the live ones, or the new ones during a rebuild."""
        try:
            if not path.is_dir():
                create_private(path)  # mode 0600 before SQLite opens it (and its -wal, -shm)
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except (OSError, sqlite3.Error) as exc:
            raise SearchUnavailableError(f"cannot open search index {path}: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new file's only
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA cache_size = -65536")
            self._ensure_schema()
        except sqlite3.Error as exc:
            self._conn.close()
            raise SearchUnavailableError(f"cannot open search index {path}: {exc}") from exc
        logger.debug("opened search index %s", path)

    # --- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise SearchUnavailableError(f"search index {self.path}: {exc}") from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._guard() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _ensure_schema(self) -> None:
        conn = self._conn
        if is_live(conn):  # the usual case: no write lock taken (a sync may hold it)
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            ensure_live(conn, self.path)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _ids(self, conn: sqlite3.Connection, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT key, id FROM {self._tables.docs} WHERE key IN ({marks})"
            found.update(conn.execute(sql, chunk).fetchall())
        return found

    # --- writing -------------------------------------------------------------------------------

    def index(self, docs: Iterable[IndexDoc]) -> int:
        """Add or replace `docs` by key, all in one transaction; returns how many were written."""
        t = self._tables
        batch = {doc.key: doc for doc in docs}
        if not batch:
            return 0
        bounded = {key: bounded_doc(full, self.text_limits) for key, full in batch.items()}
        with self._write() as conn:
            existing = self._ids(conn, list(batch))
            if existing:
                fresh = {key: (doc.body_own, doc.body_quoted) for key, doc in bounded.items()}
                unindex(conn, (t.docs, t.fts), list(existing.values()), self._texts(), fresh)
            (next_id,) = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {t.docs}").fetchone()
            rows = []
            texts = []
            for key, doc in bounded.items():
                doc_id = existing.get(key)
                if doc_id is None:
                    doc_id, next_id = next_id, next_id + 1
                rows.append(doc_row(doc, doc_id))
                sender = sender_text(doc.from_name, doc.from_addr)
                texts.append((doc_id, doc.subject, sender, doc.body_own, doc.body_quoted))
            marks = ", ".join("?" * len(rows[0]))
            conn.executemany(f"INSERT OR REPLACE INTO {t.docs} VALUES ({marks})", rows)
            conn.executemany(
                f"INSERT INTO {t.fts} (rowid, subject, sender, body_own, body_quoted)"
                " VALUES (?, ?, ?, ?, ?)",
                texts,
            )
        logger.debug("indexed %d documents (%d replaced)", len(batch), len(existing))
        return len(batch)

    def delete(self, keys: Iterable[str]) -> int:
        t = self._tables
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return 0
        with self._write() as conn:
            ids = [(i,) for i in self._ids(conn, wanted).values()]
            unindex(conn, (t.docs, t.fts), [i for (i,) in ids], self._texts())
            conn.executemany(f"DELETE FROM {t.docs} WHERE id = ?", ids)
        logger.debug("deleted %d of %d keys", len(ids), len(wanted))
        return len(ids)

    def clear(self) -> None:
        """Start a rebuild: new, empty tables beside the live ones, which searches keep
        reading until `finish_rebuild` swaps the new ones in."""
        with self._write() as conn:
            begin_build(conn)
        self._tables = NEXT
        logger.info("rebuilding search index %s beside the live one", self.path)

    def finish_rebuild(self) -> None:
        """Swap the tables built since `clear()` in, in one transaction."""
        if self._tables is LIVE:
            return
        with self._write() as conn:
            swap_in(conn)
        self._tables = LIVE
        logger.info("search index %s: the rebuilt index is live", self.path)

    def compact(self) -> None:
        """Merge the FTS5 segments into one and VACUUM the file (after a sync that grew the
        store by a quarter, `store.compaction`): twisted-python's fresh index 41.8 -> 38.6 MB
        for 0.36 s CPU.  Searches are answered the same."""
        with self._guard() as conn:
            conn.execute(f"INSERT INTO {LIVE.fts} ({LIVE.fts}) VALUES ('optimize')")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        logger.info("search index %s compacted", self.path)

    def get_store_id(self) -> str:
        t = self._tables
        with self._guard() as conn:
            row = conn.execute(f"SELECT value FROM {t.meta} WHERE name = 'store_id'").fetchone()
        return str(row[0]) if row is not None else ""

    def set_store_id(self, store_id: str) -> None:
        t = self._tables
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO {t.meta} (name, value) VALUES ('store_id', ?)", (store_id,)
            )

    def get_checkpoint(self) -> int:
        t = self._tables
        with self._guard() as conn:
            row = conn.execute(f"SELECT value FROM {t.meta} WHERE name = 'checkpoint'").fetchone()
        return int(row[0]) if row is not None else 0

    def set_checkpoint(self, seq: int) -> None:
        t = self._tables
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO {t.meta} (name, value) VALUES ('checkpoint', ?)",
                (str(seq),),
            )

    def count(self) -> int:
        t = self._tables
        with self._guard() as conn:
            (total,) = conn.execute(f"SELECT count(*) FROM {t.docs}").fetchone()
        return int(total)

    def close(self) -> None:
        with self._lock:
            self.parts.close()
            self._conn.close()
            close = getattr(self.texts, "close", None)
            if close is not None:
                close()

    def _texts(self) -> tuple[TextSource, TextLimits]:
        return self.texts, self.text_limits

    # --- reading -------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        lists: tuple[str, ...] = (),
        sort: Sort = "relevance",
        limit: int = 20,
        offset: int = 0,
        facets: bool = False,
        cursor: str | None = None,
        include_private: bool = False,
        persons: PersonResolver | None = None,
        hidden: Collection[str] = (),
    ) -> SearchResult:
        """Run `query` (see `search.query`); raises `SearchQueryError` if it cannot be parsed.

        The cursor of this backend carries the next offset (SQLite pages by OFFSET)."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        if cursor is not None:
            offset = int(decode_cursor(cursor).get("offset", 0))
        parsed = resolve_query(parse_query(query, self.limits), persons)
        plan = build_plan(parsed, lists)
        phrases = highlight_phrases(parsed)
        facet_counts: dict[str, list[tuple[str, int]]] = {}
        identity_counts: list[tuple[int, int]] = []
        names: dict[str, str] = {}
        with self._guard() as conn:
            conn.execute("BEGIN")  # one snapshot for the count and the page
            try:
                if not include_private:
                    plan = public_only(conn, plan)
                plan = without_keys(conn, plan, hidden)  # removed, the index not told yet
                if plan.match is None:
                    total, hits = self._filtered(conn, plan, sort, limit, offset)
                else:
                    total, hits = self._matched(conn, plan, phrases, sort, limit, offset)
                if facets:
                    facet_counts, identity_counts = compute_facets(conn, plan)
            finally:
                conn.execute("COMMIT")
        if facets and persons is not None:
            facet_counts["sender"], names = sender_facet(identity_counts, persons)
        logger.debug("query %r: %d matches", query, total)
        following = offset + limit
        next_cursor = encode_cursor({"offset": following}) if following < total else None
        return SearchResult(
            total=total,
            hits=hits,
            facets=facet_counts,
            next_cursor=next_cursor,
            person_names=names,
        )

    def _matched(
        self,
        conn: sqlite3.Connection,
        plan: FtsPlan,
        phrases: tuple[tuple[str, ...], ...],
        sort: Sort,
        limit: int,
        offset: int,
    ) -> tuple[int, list[Hit]]:
        total, rows = fts_once.matched(conn, plan, sort, (limit, offset), self.parts)
        if not rows:
            return total, []
        return total, page_hits(conn, rows, phrases, _relevance, self._texts())

    def _filtered(
        self, conn: sqlite3.Connection, plan: FtsPlan, sort: Sort, limit: int, offset: int
    ) -> tuple[int, list[Hit]]:
        total = fts_page.filtered_total(conn, plan)
        if limit == 0 or total <= offset:
            return total, []
        rows = fts_page.filtered_page(conn, plan, sort, (limit, offset, total))
        return total, page_hits(conn, rows, (), _unscored, self._texts())
