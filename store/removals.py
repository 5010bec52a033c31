"""Removals: messages hidden from every reader, kept out of later syncs, on record, undoable.

A removal (`removals` row) covers one message (by key), the messages sharing a Message-ID, or
a whole thread.  Each message it covers gets a mark (`removal_marks`): its key, normalised
Message-ID, content fingerprint and raw sha256, never its text.  The marks of the removals
not undone are the tombstones: `store.visibility` hides every stored message whose key is
marked (for every reader, logged in or not), and a sync (`Store.save_volume`) recognises a
message arriving again by its key, its content fingerprint or its raw bytes (the same mail
re-sent on another list, or re-parsed into another key), so it never comes back.  A Message-ID
reused by a different message is a different message (another key, another fingerprint): it
stays visible.

Every removal records who, when and why; `undo` shows the messages again.  A removal made
with `purge` also wipes the messages' raw bytes and parsed text for good (with SQLite's
`secure_delete` on for that write, and the write-ahead log checkpointed), leaving only the
marks and the blank row that keeps the thread's shape: a purged removal cannot be undone
(there is nothing left to show), and `undo` refuses it.

A removal covers the messages it found when it was made: a later reply to a removed thread is
a new message (remove it in turn).  Each change stamps the covered messages with a new change
sequence, so the search index (`search.indexer`) and the statistics' frame cache learn it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from store import figure_cache, identities, superseded, tx
from store.content import EMPTY
from store.errors import StoreError
from store.removal_marks import ACTIVE_KEYS as ACTIVE_KEYS
from store.removal_marks import any_active as any_active
from store.tombstones import Stone as Stone
from store.tombstones import Tombstones as Tombstones

logger = logging.getLogger(__name__)

MESSAGE, THREAD = "message", "thread"
KINDS = (MESSAGE, THREAD)


class RemovalError(StoreError):
    """A removal that cannot be made or undone; the message says why."""


class UnknownTargetError(RemovalError):
    """No stored message (or thread) answers to what was named."""


@dataclass(frozen=True, slots=True)
class Removal:
    id: int
    kind: str
    target: str
    reason: str
    actor: str
    created_at: str
    purged: bool
    undone_at: str | None
    undone_by: str | None
    keys: tuple[str, ...]
    """The keys of the messages it covers (its marks)."""

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "reason": self.reason,
            "actor": self.actor,
            "created_at": self.created_at,
            "purged": self.purged,
            "active": self.active,
            "undone_at": self.undone_at,
            "undone_by": self.undone_by,
            "messages": list(self.keys),
        }


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _next_seq(conn: sqlite3.Connection) -> int:
    """A new change sequence number (as `Store._next_seq`, inside the caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
    value = (int(row[0]) if row else 0) + 1
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('change_seq', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(value),),
    )
    return value


def _chunks(values: Sequence[str], size: int = 900) -> Iterable[tuple[list[str], str]]:
    for start in range(0, len(values), size):
        part = list(values[start : start + size])
        yield part, ",".join("?" * len(part))


def _stamp(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    """Give the messages `keys` a new change sequence (the index and frame caches see it)."""
    seq = _next_seq(conn)
    for part, marks in _chunks(sorted(set(keys))):
        conn.execute(f"UPDATE messages SET seq = ? WHERE key IN ({marks})", (seq, *part))
    figure_cache.drop(conn)  # kept figures may name what was removed (subjects, senders)


# -- what a removal covers -------------------------------------------------------------------


def keys_for_message(conn: sqlite3.Connection, key: str) -> list[str]:
    row = conn.execute("SELECT key FROM messages WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise UnknownTargetError(f"no message with key {key!r}")
    return [str(row[0])]


def keys_for_message_id(conn: sqlite3.Connection, message_id_norm: str) -> list[str]:
    """Every stored message with this (normalised) Message-ID: all of them are meant."""
    keys = [
        str(r[0])
        for r in conn.execute(
            "SELECT key FROM messages WHERE message_id_norm = ? ORDER BY key", (message_id_norm,)
        )
    ]
    if not keys:
        raise UnknownTargetError(f"no message with Message-ID <{message_id_norm}>")
    return keys


def thread_of(conn: sqlite3.Connection, key: str) -> str:
    row = conn.execute("SELECT thread_id FROM messages WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise UnknownTargetError(f"no message with key {key!r}")
    if row[0] is None:
        raise RemovalError(f"message {key} is not threaded yet: run `listarchive sync` first")
    return str(row[0])


def keys_for_thread(conn: sqlite3.Connection, thread_id: str) -> list[str]:
    keys = [
        str(r[0])
        for r in conn.execute(
            "SELECT key FROM messages WHERE thread_id = ? ORDER BY key", (thread_id,)
        )
    ]
    if not keys:
        raise UnknownTargetError(f"no thread {thread_id!r}")
    return keys


# -- removing, undoing, purging ----------------------------------------------------------------


def remove(
    conn: sqlite3.Connection,
    kind: str,
    target: str,
    keys: Sequence[str],
    *,
    reason: str,
    actor: str,
    purge: bool = False,
) -> Removal:
    """Record a removal of the stored messages `keys` (found with the `keys_for_*`
    functions): hidden at once for every reader; with `purge`, wiped for good."""
    if kind not in KINDS:
        raise RemovalError(f"a removal is of a message or a thread, not {kind!r}")
    if not keys:
        raise UnknownTargetError(f"nothing to remove for {target!r}")
    previous = conn.execute("PRAGMA secure_delete").fetchone()[0]
    if purge:  # freed pages are overwritten with zeros: the text is not left in the file
        conn.execute("PRAGMA secure_delete = ON")
    try:
        with tx.write(conn):
            removal_id = conn.execute(
                "INSERT INTO removals (kind, target, reason, actor, created_at, purged) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kind, target, reason.strip(), actor, _now(), int(purge)),
            ).lastrowid
            assert removal_id is not None
            for part, marks in _chunks(sorted(set(keys))):
                conn.execute(
                    "INSERT OR IGNORE INTO removal_marks (removal, message_key, "
                    "message_id_norm, content_hash, raw_sha256) SELECT ?, key, "
                    f"message_id_norm, content_hash, raw_sha256 FROM messages WHERE key IN "
                    f"({marks})",
                    (removal_id, *part),
                )
            _stamp(conn, keys)
            if purge:
                _purge(conn, keys)
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(previous)}")
    if purge:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            logger.warning(
                "purge: a reader holds the write-ahead log; the purged pages leave it at the "
                "next checkpoint"
            )
    logger.info("removal %d by %s: %s %s (%d messages)", removal_id, actor, kind, target, len(keys))
    return get(conn, int(removal_id))


def _purge(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    """Blank the rows of `keys`: raw bytes, headers shown, text, attachments and date go;
    key, Message-ID, fingerprints and thread links stay (the tombstone and the thread's
    shape).  Their senders' display names are worked out again without them."""
    empty, body_bytes, body_chars = EMPTY
    ordered = sorted(set(keys))
    persons: set[int] = set()
    for part, marks in _chunks(ordered):
        superseded.keep_stored(conn, part)  # for the search index, until it deletes them
        persons.update(
            int(r[0])
            for r in conn.execute(
                "SELECT DISTINCT i.person FROM messages m JOIN identities i ON i.id = m.identity "
                f"WHERE m.key IN ({marks})",
                part,
            )
        )
        conn.execute(
            "UPDATE messages SET from_name = '', from_addr = '', to_json = '[]', cc_json = '[]', "
            "subject = '', subject_norm = '', list_tag = '', date = NULL, date_offset = NULL, "
            "body_bytes = ?, body_chars = ?, signature = '', attachments = '[]', "
            f"unixfrom = '', content = ?, raw_size = 0 WHERE key IN ({marks})",
            (body_bytes, body_chars, empty, *part),
        )
        conn.execute(f"UPDATE threads SET subject = '' WHERE root_key IN ({marks})", part)
    identities.refresh_names(conn, persons)


def undo(conn: sqlite3.Connection, removal_id: int, actor: str) -> Removal:
    """Show the messages of a removal again (those no other removal still hides)."""
    found = get(conn, removal_id)
    if not found.active:
        raise RemovalError(f"removal {removal_id} was already undone ({found.undone_at})")
    if found.purged:
        raise RemovalError(
            f"removal {removal_id} purged its messages: their bytes and text are gone for good, "
            "so it cannot be undone"
        )
    with tx.write(conn):
        conn.execute(
            "UPDATE removals SET undone_at = ?, undone_by = ? WHERE id = ?",
            (_now(), actor, removal_id),
        )
        _stamp(conn, found.keys)
    logger.info("removal %d undone by %s", removal_id, actor)
    return get(conn, removal_id)


# -- reading ---------------------------------------------------------------------------------

_REMOVAL_COLUMNS = "id, kind, target, reason, actor, created_at, purged, undone_at, undone_by"


def _build(conn: sqlite3.Connection, row: Sequence[object]) -> Removal:
    keys = tuple(
        str(r[0])
        for r in conn.execute(
            "SELECT message_key FROM removal_marks WHERE removal = ? ORDER BY message_key",
            (row[0],),
        )
    )
    return Removal(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        bool(row[6]),
        None if row[7] is None else str(row[7]),
        None if row[8] is None else str(row[8]),
        keys,
    )


def get(conn: sqlite3.Connection, removal_id: int) -> Removal:
    row = conn.execute(
        f"SELECT {_REMOVAL_COLUMNS} FROM removals WHERE id = ?", (removal_id,)
    ).fetchone()
    if row is None:
        raise UnknownTargetError(f"no removal {removal_id}")
    return _build(conn, row)


def list_removals(conn: sqlite3.Connection, limit: int = 1000) -> list[Removal]:
    """The removals, newest first."""
    rows = conn.execute(
        f"SELECT {_REMOVAL_COLUMNS} FROM removals ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_build(conn, r) for r in rows]


def hidden_keys(conn: sqlite3.Connection, keys: Iterable[str] | None = None) -> set[str]:
    """The removed keys (among `keys` when given)."""
    if not any_active(conn):
        return set()
    if keys is None:
        return {str(r[0]) for r in conn.execute(ACTIVE_KEYS)}
    found: set[str] = set()
    for part, marks in _chunks(sorted(set(keys))):
        found.update(
            str(r[0]) for r in conn.execute(f"{ACTIVE_KEYS} AND rm.message_key IN ({marks})", part)
        )
    return found


def person_only_removed(conn: sqlite3.Connection, person: int) -> bool:
    """Every message of `person` is removed (a person known only from removed messages is
    shown to nobody, like the messages)."""
    if not any_active(conn):
        return False
    row = conn.execute(
        f"SELECT count(*), coalesce(sum(m.key NOT IN ({ACTIVE_KEYS})), 0) FROM messages m "
        "JOIN identities i ON i.id = m.identity WHERE i.person = ?",
        (person,),
    ).fetchone()
    return int(row[0]) > 0 and int(row[1]) == 0
