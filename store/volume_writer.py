"""Storing one volume in batches, inside its one transaction (`Store.volume_writer`).

A volume may hold millions of messages: the sync hands them over a batch at a time, so what
it holds is one batch, never the volume.  Every batch goes through the same steps as a whole
volume did (`Store.save_volume` is one batch): duplicates by key (earlier batches' rows are
seen, uncommitted, by the same connection), list memberships, sender identities, the removal
tombstones (`store.removals`: a purged message is not stored again, a new copy of a removed
one is stored hidden) and the quarantine.  The volume's fetch state is written last and the
transaction commits when the writer's block ends; an exception rolls the whole volume back.

The index's texts (issue 14, task IN2): a parser worker hands each message's indexed bodies
with its row (`IndexedItem`: the stored body's own and quoted parts, `store.body_parts`), and
when the run will catch the search index up (`keep_for_index`) the new rows' texts are kept
(`KeptTexts`, bounded) with the stored blob they came with; the catch-up takes them instead
of inflating and splitting the body again (`search.fts_write_feed`), once it has checked that
the row it read still holds that very blob.  Whatever is not kept, or no longer matches, is
read from the store as before: the store stays the source of truth.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store import identities, removals
from store.records import MESSAGE_COLUMNS, Quarantined, SaveCounts, StoredItem, VolumeState

if TYPE_CHECKING:
    from store.store import Store

INSERT_MESSAGE = (
    f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}, seq, identity) "
    f"VALUES ({', '.join('?' * (len(MESSAGE_COLUMNS) + 2))})"
)
_FROM_ADDR = MESSAGE_COLUMNS.index("from_addr")
_FROM_NAME = MESSAGE_COLUMNS.index("from_name")
_UNIXFROM = MESSAGE_COLUMNS.index("unixfrom")
_CONTENT = MESSAGE_COLUMNS.index("content")
_BODY_CHARS = MESSAGE_COLUMNS.index("body_chars")

KEPT_BYTES = 48 * 1024 * 1024
"""What `KeptTexts` holds at most (texts' characters + blobs' bytes): about 3,000 twisted-python
messages take 12 MB; a single volume of 230 MB (no catch-up before its end) fills it and the
rest is read from the store (memory stays flat)."""


@dataclass(frozen=True, slots=True, eq=False)
class IndexedItem(StoredItem):
    """A `StoredItem` with the two bodies the index is given for it (own text, quoted text:
    `store.body_parts.split_body` of its stored body), made by the parser worker.  Equal to
    the `StoredItem` of the same fields (the texts derive from them)."""

    texts: tuple[str, str] = ("", "")

    def __reduce__(self) -> tuple[type[StoredItem], tuple[object, ...]]:  # type: ignore[override]
        return (IndexedItem, (self.key, self.row, self.origin, self.position, self.texts))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredItem):
            return NotImplemented
        return (self.key, self.row, self.origin, self.position) == (
            other.key,
            other.row,
            other.origin,
            other.position,
        )

    __hash__ = StoredItem.__hash__


Kept = tuple[bytes, str, str, int]
"""The stored blob a message's texts came with, its own and quoted bodies, its body's length."""


class KeptTexts:
    """New rows' index texts kept for the next catch-up (module doc), at most `limit` bytes:
    past it, nothing more is kept until a catch-up takes or drops what is held."""

    def __init__(self, limit: int = KEPT_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self._texts: dict[str, Kept] = {}
        self._lock = threading.Lock()  # the scheduler's jobs run in threads

    def keep(self, items: Sequence[StoredItem]) -> None:
        with self._lock:
            for item in items:
                if not isinstance(item, IndexedItem):
                    continue
                own, quoted = item.texts
                blob = item.row[_CONTENT]
                size = len(own) + len(quoted) + len(blob)
                if self.size + size > self.limit:
                    return
                old = self._texts.get(item.key)
                if old is not None:
                    self.size -= len(old[0]) + len(old[1]) + len(old[2])
                self._texts[item.key] = (blob, own, quoted, int(item.row[_BODY_CHARS]))
                self.size += size

    def take(self, key: str, blob: bytes) -> tuple[str, str, int] | None:
        """The texts kept for `key` if they came with `blob` (the row as read now), once."""
        with self._lock:
            kept = self._texts.pop(key, None)
            if kept is None:
                return None
            self.size -= len(kept[0]) + len(kept[1]) + len(kept[2])
        if kept[0] != blob:
            return None
        return kept[1], kept[2], kept[3]

    def __contains__(self, key: str) -> bool:
        return key in self._texts

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self.size = 0


_KEPT: weakref.WeakKeyDictionary[Store, KeptTexts] = weakref.WeakKeyDictionary()


def keep_for_index(store: Store, limit: int = KEPT_BYTES) -> KeptTexts:
    """From now on, the new rows `store`'s volume writers add keep their index texts (a run
    whose search index is caught up from this process: `ingest.sync.sync_list`)."""
    kept = _KEPT.get(store)
    if kept is None:
        kept = _KEPT[store] = KeptTexts(limit)
    return kept


def kept_for_index(store: Store) -> KeptTexts | None:
    """The texts kept for `store`'s index (`keep_for_index`), if any are."""
    return _KEPT.get(store)


class VolumeWriter:
    """One volume being stored (made by `Store.volume_writer`, inside its transaction)."""

    def __init__(
        self, store: Store, conn: sqlite3.Connection, list_id: int, state: VolumeState
    ) -> None:
        self.store = store
        self.conn = conn
        self.list_id = list_id
        self.state = state
        """The fetch state written when the block ends (the caller may replace it first, e.g.
        with the volume's message count)."""
        self.seq = store._next_seq(conn)  # noqa: SLF001 - the store's own sequence
        self.stones = removals.Tombstones(conn)
        self.counts = SaveCounts()
        """The volume's totals so far (without `new_keys`: `add` returns those per batch)."""

    def add(
        self, items: Sequence[StoredItem], quarantined: Sequence[Quarantined] = ()
    ) -> SaveCounts:
        """Store one batch; returns its counts (also added to `counts`)."""
        conn, list_id, seq, stones = self.conn, self.list_id, self.seq, self.stones
        counts = SaveCounts()
        senders = identities.Assigner(conn)
        existing = self.store._ids_for(conn, {item.key for item in items})  # noqa: SLF001
        new_rows: list[tuple[object, ...]] = []
        first: dict[str, StoredItem] = {}
        duplicates: list[StoredItem] = []
        removed_again = 0
        for item in items:
            stone = stones.match(item)
            if item.key in existing or item.key in first:
                duplicates.append(item)
                removed_again += stone is not None
            elif stone is not None and stone.purged:  # gone for good: never again
                counts.removed += 1
            else:
                first[item.key] = item
                sender = senders.identity(item.row[_FROM_ADDR], item.row[_FROM_NAME])
                new_rows.append((*item.row, seq, sender))
        conn.executemany(INSERT_MESSAGE, new_rows)
        kept = _KEPT.get(self.store)
        if kept is not None:
            kept.keep(list(first.values()))
        ids = {**existing, **self.store._ids_for(conn, set(first))}  # noqa: SLF001
        conn.executemany(
            "INSERT INTO memberships (message, list, origin, position) VALUES (?, ?, ?, ?)",
            [(ids[i.key], list_id, i.origin, i.position) for i in first.values()],
        )
        for item in duplicates:
            added = conn.execute(
                "INSERT OR IGNORE INTO memberships (message, list, origin, position) "
                "VALUES (?, ?, ?, ?)",
                (ids[item.key], list_id, item.origin, item.position),
            ).rowcount
            if added:  # a known message on a new list: the index must learn it
                conn.execute("UPDATE messages SET seq = ? WHERE id = ?", (seq, ids[item.key]))
        # a message stored before From_ lines were kept gets the line of a copy seen again
        # (never a purged one: its row keeps nothing)
        conn.executemany(
            "UPDATE messages SET unixfrom = ? WHERE id = ? AND unixfrom = '' AND raw_size > 0",
            [(i.row[_UNIXFROM], ids[i.key]) for i in duplicates if i.row[_UNIXFROM]],
        )
        hidden = stones.hide_new(conn, first.values()) if stones else 0
        counts.removed += hidden + removed_again
        counts.new = len(new_rows) - hidden
        counts.new_keys = list(first)
        counts.duplicates = len(duplicates) - removed_again
        for bad in quarantined:
            added = conn.execute(
                "INSERT OR IGNORE INTO quarantine (list, origin, position, reason, raw, "
                "raw_sha256, created_at, limits) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    list_id,
                    bad.origin,
                    bad.position,
                    bad.reason,
                    bad.raw,
                    bad.raw_sha256,
                    self.state.fetched_at,
                    bad.limits,
                ),
            ).rowcount
            counts.quarantined += added
        senders.finish()
        total = self.counts
        total.new += counts.new
        total.duplicates += counts.duplicates
        total.quarantined += counts.quarantined
        total.removed += counts.removed
        return counts

    def finish(self) -> None:
        """Write the fetch state (called by `Store.volume_writer` as its block ends)."""
        self.store._upsert_volume(self.conn, self.list_id, self.state)  # noqa: SLF001
