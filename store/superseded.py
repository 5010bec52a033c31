"""Bodies a change replaced, kept until the search index has applied that change (issue 14).

The embedded search index (`search.sqlite_fts`) is a contentless FTS5 table: it keeps no copy
of the text it indexed, and SQLite 3.40 forgets a document only when given the exact values
it was indexed with.  It derives them from the store's body, which is exact while that body is
unchanged.  A command that changes or blanks a stored body (`store.reparse.apply_changes`,
with the embedded backend only; a purge: `store.removals`) first keeps the body it replaces
here, in the same transaction, with the change sequence of the change: an index that has not
caught up yet still finds the text its document was made from.  Rows are dropped once the
index has applied every change up to their sequence (`prune`, called by `search.indexer` after
a catch-up) or has deleted the documents of their messages (`forget`): the table holds only
changes the index has not seen.

The store writes with `secure_delete` on, so a purged body dropped from here is overwritten,
and `search.indexer` checkpoints the write-ahead log after dropping (`checkpoint`): without it
the store's file kept the purged body until the next checkpoint, which a long-running process
(the web UI, where purges are made) may not reach for hours.
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from collections.abc import Iterable, Sequence

from store.content import body_text

logger = logging.getLogger(__name__)

_LEVEL = 1
_CHUNK = 500


def keep(conn: sqlite3.Connection, bodies: Iterable[tuple[str, int, str]]) -> None:
    """Keep the (key, seq, body) of each body a change at that sequence replaces (in the
    caller's transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO superseded_bodies (key, seq, body) VALUES (?, ?, ?)",
        [
            (key, seq, zlib.compress(body.encode("utf-8", "surrogatepass"), _LEVEL))
            for key, seq, body in bodies
        ],
    )


def keep_stored(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    """Keep the stored bodies of `keys`, at their messages' sequence, before a change blanks
    them (a purge: the change stamped them with its sequence first)."""
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT key, seq, content, body_bytes FROM messages "
            f"WHERE key IN ({marks}) AND body_chars > 0",
            chunk,
        ).fetchall()
        keep(conn, [(key, seq, body_text(stream, size)) for key, seq, stream, size in rows])


def bodies_of(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, list[str]]:
    """The bodies kept for `keys`, oldest change first."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        for key, body in conn.execute(
            f"SELECT key, body FROM superseded_bodies WHERE key IN ({marks}) ORDER BY key, seq",
            chunk,
        ):
            found.setdefault(key, []).append(zlib.decompress(body).decode("utf-8", "surrogatepass"))
    return found


def prune(conn: sqlite3.Connection, applied: int) -> int:
    """Drop the bodies of changes up to sequence `applied` (the index holds what came after
    them); returns how many."""
    return conn.execute("DELETE FROM superseded_bodies WHERE seq <= ?", (applied,)).rowcount


def forget(conn: sqlite3.Connection, keys: Sequence[str]) -> int:
    """Drop the bodies of `keys` (the index no longer holds documents of them); returns how
    many."""
    dropped = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        dropped += conn.execute(
            f"DELETE FROM superseded_bodies WHERE key IN ({marks})", chunk
        ).rowcount
    return dropped


def checkpoint(conn: sqlite3.Connection, mode: str = "TRUNCATE") -> None:
    """After dropping bodies (outside a transaction): the overwritten pages written into the
    store's file, not only into the write-ahead log, so a purged body dropped is gone from
    the file while the process goes on (the web UI's; a purge promises it: `store.removals`).
    `TRUNCATE` waits for readers as the purge's own checkpoint does; `PASSIVE` does not (the
    pages a reader still sees follow at the next checkpoint)."""
    busy = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()[0]
    if busy and mode == "TRUNCATE":
        logger.warning(
            "superseded bodies dropped: a reader holds the write-ahead log; their pages leave "
            "the store's file at the next checkpoint"
        )


def pending(conn: sqlite3.Connection, applied: int | None, keys: Sequence[str]) -> bool:
    """Whether `prune` (`applied`) or `forget` (`keys`) has anything to drop."""
    if applied is not None:
        row = conn.execute(
            "SELECT 1 FROM superseded_bodies WHERE seq <= ? LIMIT 1", (applied,)
        ).fetchone()
        if row is not None:
            return True
    return bool(keys) and bool(bodies_of(conn, keys))


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM superseded_bodies").fetchone()[0])
