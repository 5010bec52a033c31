"""Storing one volume in batches, inside its one transaction (`Store.volume_writer`).

A volume may hold millions of messages: the sync hands them over a batch at a time, so what
it holds is one batch, never the volume.  Every batch goes through the same steps as a whole
volume did (`Store.save_volume` is one batch): duplicates by key (earlier batches' rows are
seen, uncommitted, by the same connection), list memberships, sender identities, the removal
tombstones (`store.removals`: a purged message is not stored again, a new copy of a removed
one is stored hidden) and the quarantine.  The volume's fetch state is written last and the
transaction commits when the writer's block ends; an exception rolls the whole volume back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
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
