"""Read queries shared by the store's users (index catch-up, CLI, web UI)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from store.body_parts import BodyParts, split_body
from store.content import blob_blocks, body_text, raw_pieces
from store.records import StoredMessage

_NO_PARTS = BodyParts("", "", "")

_COLUMNS = (
    "m.id, m.key, m.message_id, m.message_id_norm, m.from_name, m.from_addr, m.subject, "
    "m.subject_norm, m.date, {body}, m.body_bytes, m.thread_id, m.parent_key, m.depth, "
    "m.attachments, m.flags, m.seq, m.identity"
)


def _date(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def read_messages(
    conn: sqlite3.Connection,
    where: str,
    params: Sequence[object],
    *,
    with_bodies: bool = False,
) -> list[StoredMessage]:
    """Messages matching a WHERE clause on alias `m`, with their list names; `with_bodies`:
    with the body and its parts (derived from it, `store.body_parts`)."""
    body = "m.content" if with_bodies else "NULL"
    rows = conn.execute(
        f"SELECT {_COLUMNS.format(body=body)} FROM messages m WHERE {where}", params
    ).fetchall()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    lists: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for message, name in conn.execute(
            f"SELECT ms.message, l.name FROM memberships ms JOIN lists l ON l.id = ms.list "
            f"WHERE ms.message IN ({marks}) ORDER BY l.name",
            chunk,
        ):
            lists[message].append(name)
    bodies = [body_text(r[9], r[10]) if r[9] is not None else "" for r in rows]
    parts = [split_body(body) if body else _NO_PARTS for body in bodies]
    return [
        StoredMessage(
            key=r[1],
            message_id=r[2],
            message_id_norm=r[3],
            from_name=r[4],
            from_addr=r[5],
            subject=r[6],
            subject_norm=r[7],
            date=_date(r[8]),
            body=body,
            body_own=part.own,
            body_quoted=part.quoted,
            thread_id=r[11],
            parent_key=r[12],
            depth=r[13],
            lists=tuple(lists[r[0]]),
            attachments=tuple(a[0] for a in json.loads(r[14]) if a[0]) if r[14] != "[]" else (),
            flags=tuple(json.loads(r[15])) if r[15] != "[]" else (),
            seq=r[16],
            identity=r[17],
        )
        for r, body, part in zip(rows, bodies, parts, strict=True)
    ]


RAW_CHUNK = 1 << 20
"""Bytes read (and at most produced) per step of `raw_chunks`."""


def raw_chunks(conn: sqlite3.Connection, key: str, chunk: int = RAW_CHUNK) -> Iterator[bytes]:
    """The original bytes of message `key`, decompressed piece by piece from the stored blob
    (neither the compressed nor the whole message is ever in memory at once); nothing for an
    unknown key."""
    row = conn.execute("SELECT id, body_bytes FROM messages WHERE key = ?", (key,)).fetchone()
    if row is None:
        return
    yield from raw_pieces(blob_blocks(conn, int(row[0]), chunk), int(row[1]), chunk)
