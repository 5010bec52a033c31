"""The store side of `listarchive reparse`: read stored messages (and quarantined ones) in
batches, and write back the fields a better parser changed, in place.

A message keeps its row, its key, its memberships and its removal (a removed message is not
touched at all: `store.removals`); changed rows get a new change sequence (the search index
catches up), a new sender identity when the sender changed (`store.identities`), and the
threads they were in are rebuilt (`Store.rethread`).  Purged rows (no bytes left) are skipped.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from store import identities, removals, superseded
from store.content import body_text
from store.records import MESSAGE_COLUMNS, VolumeState
from store.store import Store, utcnow_iso

COMPARED = tuple(
    c for c in MESSAGE_COLUMNS if c not in ("key", "content", "raw_size", "raw_sha256", "unixfrom")
)
"""The parsed columns a re-parse may change (the raw bytes, and so their size and digest, and
the key never do; nor the From_ line, which is not in the raw bytes).  The body is in the
stored stream with the raw bytes (`store.content`): compared apart, reported as "body"."""
THREADING = frozenset({"message_id_norm", "in_reply_to", "refs", "subject_norm", "date"})
SENDER = frozenset({"from_addr", "from_name"})
_INDEX = {name: i for i, name in enumerate(MESSAGE_COLUMNS)}
_BODY_BYTES = COMPARED.index("body_bytes")
_BODY_SIZES = ("body_bytes", "body_chars")


@dataclass(frozen=True, slots=True)
class StoredRaw:
    id: int
    key: str
    raw: bytes
    body: str
    unixfrom: str
    """The stored From_ line; for a message stored before From_ lines were kept, one rebuilt
    from the stored date when the parser took the date from the envelope, so that date is
    found again."""
    fields: tuple[object, ...]
    """The stored values of `COMPARED`."""
    thread_id: str | None
    identity: int | None


@dataclass(frozen=True, slots=True)
class QuarantinedRaw:
    id: int
    list_id: int
    origin: str
    position: int
    reason: str
    raw: bytes


def _envelope(date: object) -> str:
    if not isinstance(date, int):
        return ""
    return "reparse@listarchive.invalid " + time.asctime(time.gmtime(date))


def stored_batches(
    conn: sqlite3.Connection, list_id: int | None, batch: int
) -> Iterator[list[StoredRaw]]:
    """Every stored message (of one list), `batch` at a time, in row order: memory holds one
    batch whatever the store's size.  Purged and removed messages are left out."""
    columns = ", ".join(f"m.{c}" for c in COMPARED)
    on_list = "AND m.id IN (SELECT message FROM memberships WHERE list = ?)" if list_id else ""
    last = 0
    date_at, source_at = COMPARED.index("date"), COMPARED.index("date_source")
    while True:
        params: tuple[object, ...] = (last, list_id, batch) if list_id else (last, batch)
        rows = conn.execute(
            f"SELECT m.id, m.key, m.content, m.raw_size, m.thread_id, m.identity, m.unixfrom, "
            f"{columns} "
            f"FROM messages m WHERE m.id > ? {on_list} ORDER BY m.id LIMIT ?",
            params,
        ).fetchall()
        if not rows:
            return
        last = int(rows[-1][0])
        hidden = removals.hidden_keys(conn, (str(r[1]) for r in rows))
        found = []
        for r in rows:
            if not r[3] or r[1] in hidden:
                continue
            fields = tuple(r[7:])
            stream = zlib.decompress(r[2])
            body_bytes = int(fields[_BODY_BYTES])
            unixfrom = str(r[6]) or (
                _envelope(fields[date_at]) if fields[source_at] == "unixfrom" else ""
            )
            found.append(
                StoredRaw(
                    int(r[0]),
                    str(r[1]),
                    stream[body_bytes:],
                    stream[:body_bytes].decode("utf-8"),
                    unixfrom,
                    fields,
                    r[4],
                    r[5],
                )
            )
        yield found


def changed_columns(stored: StoredRaw, row: Sequence[object]) -> list[str]:
    """The parsed fields of `row` that differ from the stored ones ("body" for the body, the
    sizes of its text included)."""
    changed = [
        c
        for c, old in zip(COMPARED, stored.fields, strict=True)
        if row[_INDEX[c]] != old and c not in _BODY_SIZES
    ]
    stream, body_bytes = row[_INDEX["content"]], row[_INDEX["body_bytes"]]
    if (
        not isinstance(stream, bytes)
        or not isinstance(body_bytes, int)
        or body_text(stream, body_bytes) != stored.body
    ):
        changed.append("body")
    return changed


@dataclass(slots=True)
class Change:
    stored: StoredRaw
    row: tuple[object, ...]
    """The new messages-table row (`StoredItem.row`)."""
    columns: list[str]


def apply_changes(
    store: Store, changes: Sequence[Change], keep_bodies: bool = True
) -> tuple[int, set[str]]:
    """Write the changed fields of one batch in one transaction; returns how many senders
    changed identity, and the threads to rebuild.  `keep_bodies`: the bodies replaced are
    kept for the embedded search index (`store.superseded`; not for Elasticsearch: a
    reparse of every message kept every body, ~1 GB at a million messages, for nothing)."""
    if not changes:
        return 0, set()
    threads: set[str] = set()
    moved = 0
    assignments = ", ".join(f"{c} = ?" for c in (*COMPARED, "content"))
    with store.transaction() as conn:
        seq = store._next_seq(conn)  # noqa: SLF001 - the store's own sequence, one writer
        senders = identities.Assigner(conn)
        for change in changes:
            values = [change.row[_INDEX[c]] for c in (*COMPARED, "content")]
            identity = change.stored.identity
            if SENDER & set(change.columns):
                new = senders.identity(
                    str(change.row[_INDEX["from_addr"]]), str(change.row[_INDEX["from_name"]])
                )
                if new != identity:
                    moved += 1
                    if identity is not None:  # the person it leaves is named again
                        conn.execute(
                            "UPDATE persons SET name_stale = 1 WHERE id = "
                            "(SELECT person FROM identities WHERE id = ?)",
                            (identity,),
                        )
                    identity = new
            if THREADING & set(change.columns) and change.stored.thread_id:
                threads.add(change.stored.thread_id)
            conn.execute(
                f"UPDATE messages SET {assignments}, identity = ?, seq = ? WHERE id = ?",
                (*values, identity, seq, change.stored.id),
            )
        # the search index may still hold a document made from the old body (`store.superseded`)
        if keep_bodies:
            superseded.keep(
                conn, [(c.stored.key, seq, c.stored.body) for c in changes if "body" in c.columns]
            )
        senders.finish()
    return moved, threads


def unthread(store: Store, threads: set[str], message_ids: Sequence[int]) -> None:
    """Mark the messages of `threads` (and `message_ids`) unthreaded: `Store.rethread` then
    rebuilds those threads from the current fields.  The threads' own rows go now: a thread
    whose root's Message-ID changed (a synthetic id made from a sender now parsed) would not
    be found again by its old id and stay, empty."""
    with store.transaction() as conn:
        ordered = sorted(threads)
        for start in range(0, len(ordered), 900):
            part = ordered[start : start + 900]
            marks = ",".join("?" * len(part))
            conn.execute(f"UPDATE messages SET thread_id = NULL WHERE thread_id IN ({marks})", part)
            conn.execute(f"DELETE FROM msgnodes WHERE thread_id IN ({marks})", part)
            conn.execute(f"DELETE FROM threads WHERE thread_id IN ({marks})", part)
        conn.executemany(
            "UPDATE messages SET thread_id = NULL WHERE id = ?", [(i,) for i in message_ids]
        )


def quarantined_batches(
    conn: sqlite3.Connection, list_id: int | None, batch: int
) -> Iterator[list[QuarantinedRaw]]:
    last = 0
    on_list = "AND list = ?" if list_id else ""
    while True:
        params: tuple[object, ...] = (last, list_id, batch) if list_id else (last, batch)
        rows = conn.execute(
            f"SELECT id, list, origin, position, reason, raw FROM quarantine WHERE id > ? "
            f"{on_list} ORDER BY id LIMIT ?",
            params,
        ).fetchall()
        if not rows:
            return
        last = int(rows[-1][0])
        yield [QuarantinedRaw(int(r[0]), int(r[1]), r[2], int(r[3]), r[4], r[5]) for r in rows]


def volume_state(store: Store, list_id: int, origin: str) -> VolumeState:
    """The recorded state of the volume a quarantined message came from (storing it through
    `Store.save_volume` then rewrites that state unchanged); a volume no longer recorded is
    recorded as failed, so the next sync fetches it again."""
    found = store.volume_states(list_id).get(origin)
    if found is not None:
        return found
    return VolumeState(
        origin, "", fetched_at=utcnow_iso(), status="failed", error="recorded by reparse"
    )


def forget_quarantined(store: Store, ids: Sequence[int]) -> None:
    with store.transaction() as conn:
        conn.executemany("DELETE FROM quarantine WHERE id = ?", [(i,) for i in ids])
