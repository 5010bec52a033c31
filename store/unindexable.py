"""Messages the search index could not take: a row that cannot be read back, a document that
fails to build or that the backend refuses.  The indexer skips such a message (the others
are indexed), records it here with the reason, and removes the record once it is indexed
(after `listarchive reparse`, or a fixed program).  `listarchive check` reports them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from store.reader import read_messages
from store.records import StoredMessage


@dataclass(frozen=True, slots=True)
class Skipped:
    key: str
    seq: int
    reason: str
    at: str = ""


def record(conn: sqlite3.Connection, skipped: Sequence[Skipped]) -> None:
    """Record skipped messages (a read-only store only logs them: the caller's concern)."""
    if not skipped:
        return
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    with conn:
        conn.executemany(
            # REPLACE: a message skipped again gets a new id (`listed(after_id=...)`)
            "INSERT OR REPLACE INTO unindexable (key, seq, reason, at) VALUES (?, ?, ?, ?)",
            [(s.key, s.seq, s.reason[:2000], now) for s in skipped],
        )


def forget(conn: sqlite3.Connection, keys: Iterable[str]) -> None:
    """Indexed after all: no longer unindexable (cheap when none ever was)."""
    if not conn.execute("SELECT 1 FROM unindexable LIMIT 1").fetchone():
        return
    wanted = sorted(set(keys))
    with conn:
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            conn.execute(
                f"DELETE FROM unindexable WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )


def last_id(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM unindexable").fetchone()
    return int(row[0])


def listed(conn: sqlite3.Connection, after_id: int = 0, limit: int = 100) -> list[Skipped]:
    """The recorded messages (those recorded after `after_id`: by one run), oldest first."""
    rows = conn.execute(
        "SELECT key, seq, reason, at FROM unindexable WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    ).fetchall()
    return [Skipped(str(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM unindexable").fetchone()[0])


def changed_keys(
    conn: sqlite3.Connection, seq: int, limit: int, after: tuple[int, str] | None
) -> list[tuple[int, str]]:
    """(seq, key) of the page `Store.changed_since` reads: to read it one message at a time
    when reading it whole failed."""
    if after is None:
        where, params = "seq > ?", [seq]
    else:
        where = "(seq > ? OR (seq = ? AND key > ?))"
        params = [after[0], after[0], after[1]]  # type: ignore[list-item]
    rows = conn.execute(
        f"SELECT seq, key FROM messages WHERE {where} ORDER BY seq, key LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def read_one(conn: sqlite3.Connection, key: str) -> StoredMessage | None:
    found = read_messages(conn, "m.key = ?", (key,), with_bodies=True)
    return found[0] if found else None
