"""Schema migrations for the store, applied in order; `meta.schema_version` records the last.

Migrations 1-14 (issues 1-14 before the store's content stream) are history, never changed:
`store.schema_early`.  A new migration is appended at the end of `MIGRATIONS` here."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from store import content
from store.errors import StoreVersionError
from store.schema_early import EARLY

MIGRATIONS: tuple[str, ...] = (
    *EARLY,
    # 15: a message's body and its raw bytes in one compressed stream, `content` (issue 14,
    # store size: `store.content`): the body is mostly a substring of the raw bytes, so the
    # pair compresses to about what the raw bytes alone took.  `listarchive_pack` is
    # `store.content.pack`, given to SQLite by `migrate`, and `listarchive_chars` Python's
    # len (SQLite's length() of a text stops at its first NUL: a body may hold one).
    """
    ALTER TABLE messages ADD COLUMN content BLOB NOT NULL DEFAULT x'';
    ALTER TABLE messages ADD COLUMN body_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN body_chars INTEGER NOT NULL DEFAULT 0;
    UPDATE messages SET content = listarchive_pack(body, raw),
        body_bytes = length(CAST(body AS BLOB)), body_chars = listarchive_chars(body);
    ALTER TABLE messages DROP COLUMN body;
    ALTER TABLE messages DROP COLUMN raw;
    """,
    # 16: the bodies a reparse or a purge replaced, until the search index has applied the
    # change (issue 14, store size: the index keeps no copy of the text, `store.superseded`);
    # the message count the file was last compacted at (`store.compaction`: 0 in a new store);
    # no query looks messages up by parent_key (the thread's links are read with its rows)
    """
    CREATE TABLE superseded_bodies (
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (key, seq)
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) SELECT 'compacted_messages', count(*) FROM messages
        WHERE true ON CONFLICT (key) DO NOTHING;
    DROP INDEX IF EXISTS messages_parent;
    """,
    # 17: the statistics' frame of a scope written once per state of the archive and read
    # back by every web worker (issue 14, task FS: `store.frame_snapshots`); rows of another
    # state are dropped by the next put, every row by a removal
    """
    CREATE TABLE IF NOT EXISTS frame_snapshots (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        value BLOB NOT NULL
    );
    """,
    # 18: every sender's names counted from an index instead of the messages' rows: the merge
    # suggestions' and the meetings' name index's GROUP BY person, from_name (issue 14, task
    # PN; 1M: 1.9 -> 0.4 s CPU, 26.8 MB, built in 2.9 s)
    """
    CREATE INDEX IF NOT EXISTS messages_sender_name ON messages (identity, from_name);
    """,
)


def _pack(body: str, raw: bytes) -> bytes:
    """Migration 15's `listarchive_pack(body, raw)`: the stream of a row stored before it
    (`raw` held zlib of the raw bytes alone)."""
    return content.pack(body, zlib.decompress(raw))[0]


def current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def checked_version(conn: sqlite3.Connection) -> int:
    """The store's schema version; StoreVersionError when it is newer than this program's
    (a downgrade): such a store is neither read nor written."""
    version = current_version(conn)
    if version > len(MIGRATIONS):
        files = [Path(row[2]) for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
        raise StoreVersionError(files[0] if files else Path("store.db"), version, len(MIGRATIONS))
    return version


MIGRATION_WAIT_MS = 30 * 60 * 1000
"""How long `migrate` waits for another connection's write lock (its migration)."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the resulting version.

    Each migration and its version number are one transaction, begun IMMEDIATE and with the
    version read again inside it: several processes may open an older store at once (a
    read-only open migrates it, `store.store`), and the ones that waited find it done
    instead of running a migration again ("duplicate column name")."""
    if checked_version(conn) == len(MIGRATIONS):
        return len(MIGRATIONS)
    conn.create_function("listarchive_pack", 2, _pack, deterministic=True)
    conn.create_function("listarchive_chars", 1, len, deterministic=True)
    # an opener that finds another migrating waits for it (minutes for migration 15 at a
    # million messages) rather than failing after the connection's default 5 s
    conn.execute(f"PRAGMA busy_timeout = {MIGRATION_WAIT_MS}")
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = checked_version(conn)
            if version < len(MIGRATIONS):
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(version + 1),),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if version + 1 >= len(MIGRATIONS):
            return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """The statements of a migration script, each ending at a semicolon that ends a complete
    statement (`sqlite3.complete_statement`: not one in a string or a comment)."""
    found: list[str] = []
    start = 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : end + 1]):
            found.append(script[start : end + 1])
            start = end + 1
    rest = script[start:]
    if any(line.strip() and not line.strip().startswith("--") for line in rest.splitlines()):
        found.append(rest)
    return found
