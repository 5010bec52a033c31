"""Tables of the embedded search index, and how a rebuild replaces them without an empty window.

The live index is three tables: ``docs``, ``fts`` (FTS5) and ``meta``.  A rebuild (`reindex`)
fills a second set beside them in the same database file (``docs_next``, ``fts_next``,
``meta_next``: `begin_build`), while searches keep reading the live set, and then swaps the
sets in one transaction (`swap_in`: drop the live tables, rename the new ones).

Why this is safe with readers in other processes (web workers holding the file open): the swap
is one SQLite write transaction, so in WAL mode every reader sees either the old tables or the
new ones, whole - a read transaction begun before the commit keeps its snapshot of the old
tables to its end, and the next one sees the new tables (SQLite re-prepares statements after a
schema change).  Nothing happens at the file level: replacing the database file (os.replace)
under open WAL readers is not safe (they keep reading the old inode while its -wal/-shm files
are shared with the new one by name), and a pointer file naming the current file would need
every reader to re-check it and re-open, with a window between the two.  The cost: the file
holds both indexes while rebuilding, and the pages of the old one stay free in the file (reused
by the next rebuild) rather than returned to the filesystem.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 6


class Tables(NamedTuple):  # not a dataclass: a tenth of the cost to import (issue 14)
    """The names of one generation of the index's tables (`LIVE`, or `NEXT` while rebuilt)."""

    docs: str
    fts: str
    meta: str


LIVE = Tables("docs", "fts", "meta")
NEXT = Tables("docs_next", "fts_next", "meta_next")


FILTER_INDEX = "docs_filter"
"""The index by ``id`` of the columns searches filter and count facets on (issue 14): a search
reads them for each match from it (~60 bytes an entry), not from the ``docs`` rows (~240 at
300k messages).  Named ``docs_filter``, or ``docs_filter_<tag>`` after a rebuild."""
FILTER_COLUMNS = ("id", "date", "private", "identity", "lists")
DATE_INDEX = "docs_date"
"""The date index (date, key) for pages by date, with the other filter columns after them, so
that a walk or a date range that also filters lists or private messages reads no ``docs``
row either."""


PRIVATE_INDEX = "docs_private"
"""The private messages (none in most indexes): it holds ``private`` too, or the planner
would answer "any private message?" by scanning `FILTER_INDEX` (which holds it)."""


def _filter_indexes(docs: str, tag: str) -> list[str]:
    return [
        f"CREATE INDEX {PRIVATE_INDEX}{tag} ON {docs} (id, private) WHERE private = 1",
        f"CREATE INDEX {DATE_INDEX}{tag} ON {docs} (date, key, private, identity, lists)",
        f"CREATE INDEX {FILTER_INDEX}{tag} ON {docs} ({', '.join(FILTER_COLUMNS)})",
    ]


def _live_indexes(conn: sqlite3.Connection, name: str) -> list[str]:
    """The live ``docs`` table's indexes called `name` (or ``name_<tag>``: rebuilt)."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name GLOB ?",
        (LIVE.docs, f"{name}*"),
    ).fetchall()
    return [str(found) for (found,) in rows]


def date_index(conn: sqlite3.Connection) -> str | None:
    """The name of the live ``docs`` table's `DATE_INDEX`, if it has the wide one."""
    return filter_index(conn) and next(iter(_live_indexes(conn, DATE_INDEX)), None)


def filter_index(conn: sqlite3.Connection) -> str | None:
    """The name of the live ``docs`` table's `FILTER_INDEX`, if it has one."""
    found = _live_indexes(conn, FILTER_INDEX)
    return found[0] if found else None


def _schema(tables: Tables, tag: str) -> list[str]:
    """The statements creating `tables`; `tag` makes the index names unique (they are global
    in a database and keep their names when their table is renamed)."""
    docs, fts = tables.docs, tables.fts
    return [
        f"""CREATE TABLE {docs} (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            message_id TEXT NOT NULL,
            lists TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            from_name TEXT NOT NULL,
            from_addr TEXT NOT NULL,
            subject TEXT NOT NULL,
            date INTEGER,
            attachments TEXT NOT NULL,
            private INTEGER NOT NULL DEFAULT 0,
            identity INTEGER NOT NULL DEFAULT 0,
            own_bytes INTEGER NOT NULL DEFAULT 0,
            texts BLOB NOT NULL DEFAULT x'',
            text_hash INTEGER NOT NULL DEFAULT 0
        )""",
        f"CREATE INDEX docs_from_addr{tag} ON {docs} (lower(from_addr))",
        f"CREATE INDEX docs_identity{tag} ON {docs} (identity)",
        *_filter_indexes(docs, tag),
        # contentless (issue 14): the text is read back from the store (`search.fts_texts`;
        # `docs.texts` holds a long body's indexed text only, `text_hash` recognises it)
        f"CREATE VIRTUAL TABLE {fts} USING fts5 (subject, sender, body_own, body_quoted, "
        "content = '', tokenize = 'porter unicode61 remove_diacritics 2')",
        f"CREATE TABLE {tables.meta} (name TEXT PRIMARY KEY, value TEXT)",
        f"INSERT INTO {tables.meta} (name, value) VALUES ('schema_version', '{SCHEMA_VERSION}')",
    ]


def _exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return row is not None


def _drop(conn: sqlite3.Connection, tables: Tables) -> None:
    for name in (tables.fts, tables.docs, tables.meta):
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def _add_filter_indexes(conn: sqlite3.Connection, path: Path) -> None:
    """Give an index built before `FILTER_INDEX` existed its filter indexes: the date index
    (date, key) and the private one (id) are replaced by the wider ones.  Once, in the
    caller's write transaction (300k messages: ~1.3 s)."""
    logger.info("search index %s: adding the filter indexes (once)", path)
    for name in (*_live_indexes(conn, DATE_INDEX), *_live_indexes(conn, PRIVATE_INDEX)):
        conn.execute(f'DROP INDEX "{name}"')
    for statement in _filter_indexes(LIVE.docs, ""):
        conn.execute(statement)


def is_live(conn: sqlite3.Connection) -> bool:
    """Whether the live tables are of this schema version with their filter indexes: nothing
    for `ensure_live` to do.  Reads only, so an opener (a search) checks it without waiting
    for the index's write lock, which a sync may hold."""
    if not _exists(conn, LIVE.meta):
        return False
    row = conn.execute(f"SELECT value FROM {LIVE.meta} WHERE name = 'schema_version'").fetchone()
    return (
        row is not None
        and row[0] == str(SCHEMA_VERSION)
        and _exists(conn, LIVE.docs)
        and _exists(conn, LIVE.fts)
        and filter_index(conn) is not None
    )


def ensure_live(conn: sqlite3.Connection, path: Path) -> None:
    """Create the live tables if missing; an index of another schema version is dropped and
    recreated empty (checkpoint 0), so the indexer rebuilds it; one of this version without
    the filter indexes gets them (`_add_filter_indexes`).  Inside the
    caller's write transaction."""
    version = None
    if _exists(conn, LIVE.meta):
        row = conn.execute(
            f"SELECT value FROM {LIVE.meta} WHERE name = 'schema_version'"
        ).fetchone()
        version = row[0] if row else None
    if version == str(SCHEMA_VERSION) and _exists(conn, LIVE.docs) and _exists(conn, LIVE.fts):
        if filter_index(conn) is None:
            _add_filter_indexes(conn, path)
        return
    if version is not None or _exists(conn, LIVE.docs):
        logger.warning(
            "search index %s has schema version %s, not %d: dropping it for a rebuild",
            path,
            version,
            SCHEMA_VERSION,
        )
    _drop(conn, LIVE)
    _drop(conn, NEXT)
    for statement in _schema(LIVE, ""):
        conn.execute(statement)


def begin_build(conn: sqlite3.Connection) -> None:
    """Empty new tables beside the live ones (a leftover of a rebuild that died is dropped)."""
    import secrets  # a rebuild only: not imported by a search (issue 14, CLI start-up)

    _drop(conn, NEXT)
    for statement in _schema(NEXT, "_" + secrets.token_hex(4)):
        conn.execute(statement)


def building(conn: sqlite3.Connection) -> bool:
    return _exists(conn, NEXT.meta)


def swap_in(conn: sqlite3.Connection) -> None:
    """Make the tables built since `begin_build` the live ones (in the caller's transaction:
    readers see the old index or the new one, never a mix or an empty one)."""
    _drop(conn, LIVE)
    for new, old in zip(
        (NEXT.fts, NEXT.docs, NEXT.meta), (LIVE.fts, LIVE.docs, LIVE.meta), strict=True
    ):
        conn.execute(f"ALTER TABLE {new} RENAME TO {old}")
