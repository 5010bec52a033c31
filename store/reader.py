"""Read queries shared by the store's users (index catch-up, CLI, web UI)."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from store.records import StoredMessage

_COLUMNS = (
    "m.id, m.key, m.message_id, m.message_id_norm, m.from_name, m.from_addr, m.subject, "
    "m.subject_norm, m.date, {bodies}, m.thread_id, m.parent_key, m.depth, m.attachments, "
    "m.flags, m.seq, m.identity"
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
    """Messages matching a WHERE clause on alias `m`, with their list names."""
    bodies = "m.body, m.body_own, m.body_quoted" if with_bodies else "'', '', ''"
    rows = conn.execute(
        f"SELECT {_COLUMNS.format(bodies=bodies)} FROM messages m WHERE {where}", params
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
            body=r[9],
            body_own=r[10],
            body_quoted=r[11],
            thread_id=r[12],
            parent_key=r[13],
            depth=r[14],
            lists=tuple(lists[r[0]]),
            attachments=tuple(a[0] for a in json.loads(r[15]) if a[0]),
            flags=tuple(json.loads(r[16])),
            seq=r[17],
            identity=r[18],
        )
        for r in rows
    ]


RAW_CHUNK = 1 << 20
"""Bytes read (and at most produced) per step of `raw_chunks`."""


def raw_chunks(conn: sqlite3.Connection, key: str, chunk: int = RAW_CHUNK) -> Iterator[bytes]:
    """The original bytes of message `key`, decompressed piece by piece from the stored blob
    (neither the compressed nor the whole message is ever in memory at once); nothing for an
    unknown key."""
    row = conn.execute("SELECT id FROM messages WHERE key = ?", (key,)).fetchone()
    if row is None:
        return
    inflate = zlib.decompressobj()
    with conn.blobopen("messages", "raw", int(row[0]), readonly=True) as blob:
        while True:
            data = blob.read(chunk)
            if not data:
                break
            out = inflate.decompress(data, chunk)
            while out:
                yield out
                out = inflate.decompress(inflate.unconsumed_tail, chunk)
    rest = inflate.flush()
    if rest:
        yield rest
