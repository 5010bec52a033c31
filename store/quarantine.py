"""Reading the quarantine: the messages a sync could not parse, kept with their bytes and the
reason (`Store.save_volume` writes them).  For a message larger than `sync.max_message_bytes`
only its first bytes are stored (`ingest.mboxstream.KEEP`), so every item is bounded.

`listarchive quarantine` and the secretariat's `/quarantine` pages read through here, so both
show the same rows; `head` reads a bounded prefix of an item's bytes in SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from store.redact import redact
from store.visibility import EVERYTHING, Visibility


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    id: int
    list_name: str
    origin: str
    """The volume it came from."""
    position: int
    """Its place in that volume (0 for the first message)."""
    reason: str
    size: int
    """Bytes stored."""
    sha256: str
    created_at: str
    limits: str = ""
    """Quarantined by a limit (too large): the limits in force then (JSON); else ''."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "list": self.list_name,
            "origin": self.origin,
            "position": self.position,
            "reason": self.reason,
            "size": self.size,
            "sha256": self.sha256,
            "created_at": self.created_at,
            "limits": _limits(self.limits),
        }


def _limits(recorded: str) -> dict[str, Any] | None:
    """The recorded limits as an object ({} when not known: a row from before they were
    recorded), or None for a message no limit quarantined."""
    if not recorded:
        return None
    try:
        found = json.loads(recorded)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


_ITEM = (
    "SELECT q.id, l.name, q.origin, q.position, q.reason, length(q.raw), q.raw_sha256, "
    "q.created_at, q.limits FROM quarantine q JOIN lists l ON l.id = q.list "
)


def _item(row: Sequence[Any]) -> QuarantineItem:
    # a reason may quote a URL (a list added before credentials were refused)
    return QuarantineItem(
        row[0], row[1], row[2], row[3], redact(row[4]), row[5], row[6], row[7], row[8]
    )


def _where(viewer: Visibility, list_name: str | None) -> tuple[str, list[object]]:
    if list_name:
        return f"WHERE {viewer.lists('l')} AND l.name = ?", [list_name]
    return f"WHERE {viewer.lists('l')}", []


def items(
    conn: sqlite3.Connection,
    list_name: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    viewer: Visibility = EVERYTHING,
) -> list[QuarantineItem]:
    """Quarantined items in the order they were stored (of one list or all)."""
    where, params = _where(viewer, list_name)
    rows = conn.execute(
        f"{_ITEM}{where} ORDER BY q.id LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ).fetchall()
    return [_item(r) for r in rows]


def count(
    conn: sqlite3.Connection, list_name: str | None = None, *, viewer: Visibility = EVERYTHING
) -> int:
    where, params = _where(viewer, list_name)
    row = conn.execute(
        f"SELECT count(*) FROM quarantine q JOIN lists l ON l.id = q.list {where}", params
    ).fetchone()
    return int(row[0])


def get(
    conn: sqlite3.Connection, item_id: int, viewer: Visibility = EVERYTHING
) -> QuarantineItem | None:
    row = conn.execute(f"{_ITEM}WHERE q.id = ? AND {viewer.lists('l')}", (item_id,)).fetchone()
    return _item(row) if row else None


def head(conn: sqlite3.Connection, item_id: int, limit: int) -> bytes:
    """The first `limit` bytes of an item (cut in SQL: the rest is never read)."""
    row = conn.execute(
        "SELECT substr(raw, 1, ?) FROM quarantine WHERE id = ?", (limit, item_id)
    ).fetchone()
    return bytes(row[0]) if row else b""


def raw(conn: sqlite3.Connection, item_id: int) -> bytes:
    """Every stored byte of an item (bounded by `sync.max_message_bytes` when it was synced)."""
    row = conn.execute("SELECT raw FROM quarantine WHERE id = ?", (item_id,)).fetchone()
    return bytes(row[0]) if row else b""


def as_text(data: bytes) -> str:
    """Bytes as text for people: UTF-8, each undecodable byte replaced by U+FFFD (so at most
    one character per byte), NUL and other control characters but tab and newline too."""
    text = data.decode("utf-8", errors="replace")
    return text.translate(_CONTROLS)


_CONTROLS = {c: 0xFFFD for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}


def held(conn: sqlite3.Connection, list_id: int) -> dict[str, list[str]]:
    """The messages of a list quarantined by a limit (`limits` recorded): each volume they
    came from (origin) with the limits recorded for them (JSON, `ingest.worker.Limits`)."""
    rows = conn.execute(
        "SELECT origin, limits FROM quarantine WHERE list = ? AND limits != '' ORDER BY id",
        (list_id,),
    )
    found: dict[str, list[str]] = {}
    for origin, limits in rows:
        found.setdefault(str(origin), []).append(str(limits))
    return found


def release_held(conn: sqlite3.Connection, list_id: int, origin: str) -> int:
    """Delete the rows of volume `origin` quarantined by a limit, inside the transaction that
    stores the volume read whole again (`Store.volume_writer(release_held=True)`): what now
    fits is stored, what does not is quarantined again with the limits now in force."""
    return conn.execute(
        "DELETE FROM quarantine WHERE list = ? AND origin = ? AND limits != ''",
        (list_id, origin),
    ).rowcount
