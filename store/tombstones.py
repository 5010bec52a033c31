"""The tombstones a sync consults (`store.removals`): the marks of the removals not undone,
loaded once per stored volume (`store.volume_writer`), by which a removed message arriving
again - by its key, its content fingerprint or its raw bytes - is recognised and hidden."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from store.records import MESSAGE_COLUMNS, StoredItem

_CONTENT = MESSAGE_COLUMNS.index("content_hash")
_RAW_SHA = MESSAGE_COLUMNS.index("raw_sha256")
_MSGID = MESSAGE_COLUMNS.index("message_id_norm")


@dataclass(frozen=True, slots=True)
class Stone:
    removal: int
    purged: bool


class Tombstones:
    """The marks of the removals not undone, loaded once per stored volume."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.by_key: dict[str, Stone] = {}
        self.by_content: dict[str, Stone] = {}
        self.by_raw: dict[str, Stone] = {}
        rows = conn.execute(
            "SELECT rm.removal, r.purged, rm.message_key, rm.content_hash, rm.raw_sha256 "
            "FROM removal_marks rm JOIN removals r ON r.id = rm.removal "
            "WHERE r.undone_at IS NULL ORDER BY r.purged, rm.removal"
        )
        for removal, purged, key, content, raw in rows:  # purged ones last: they win
            stone = Stone(int(removal), bool(purged))
            self.by_key[str(key)] = stone
            if content:
                self.by_content[str(content)] = stone
            self.by_raw[str(raw)] = stone

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def match(self, item: StoredItem) -> Stone | None:
        """The removal this message falls under: the same key, the same content fingerprint
        (the same mail with another Message-ID) or the same bytes."""
        if not self.by_key:
            return None
        return (
            self.by_key.get(item.key)
            or self.by_content.get(str(item.row[_CONTENT]))
            or self.by_raw.get(str(item.row[_RAW_SHA]))
        )

    def hide_new(self, conn: sqlite3.Connection, items: Iterable[StoredItem]) -> int:
        """Mark newly stored copies of removed messages under their removal (hidden, and shown
        again if it is undone); returns how many there were."""
        rows = []
        for item in items:
            stone = self.match(item)
            if stone is not None:
                rows.append(
                    (
                        stone.removal,
                        item.key,
                        str(item.row[_MSGID]),
                        str(item.row[_CONTENT]),
                        str(item.row[_RAW_SHA]),
                    )
                )
        conn.executemany(
            "INSERT OR IGNORE INTO removal_marks (removal, message_key, message_id_norm, "
            "content_hash, raw_sha256) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return len(rows)
