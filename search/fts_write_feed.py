"""The catch-up's pages fed from the parser workers' texts (issue 14, task IN2).

`Store.changed_since` reads a page of changed messages with their bodies: every body
inflated from its stored blob and split into own and quoted text (`store.reader`), ~40% of
what a sync process spent on the index.  The workers split each new message's body already
(`ingest.worker.build_item`) and the volume writer keeps those texts with the blob they came
with (`store.volume_writer.KeptTexts`).  `read_page` reads the same page (the same rows, the
same order, the same byte bound) but takes a message's bodies from what was kept when its row
still holds that very blob; every other message (changed since, not kept, a row of another
run) is read from the store exactly as `changed_since` reads it.  The documents built are the
same (tests/ingest/test_sync_index_texts.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from store.body_parts import split_body
from store.content import body_text
from store.records import StoredMessage
from store.store import Store
from store.volume_writer import KeptTexts

_COLUMNS = (
    "m.id, m.key, m.message_id, m.message_id_norm, m.from_name, m.from_addr, m.subject, "
    "m.subject_norm, m.date, m.content, m.body_bytes, m.thread_id, m.parent_key, m.depth, "
    "m.attachments, m.flags, m.seq, m.identity"
)


class Bodies(Mapping[str, str]):
    """A page's bodies by key: a message whose texts were kept has its body inflated only if
    asked for (a purge racing the page: `search.indexer._take_back`)."""

    def __init__(self, read: dict[str, str], blobs: dict[str, tuple[bytes, int]]) -> None:
        self._read = read
        self._blobs = blobs

    def __getitem__(self, key: str) -> str:
        if key in self._read:
            return self._read[key]
        blob, size = self._blobs[key]
        return body_text(blob, size) if blob is not None else ""

    def __iter__(self) -> Iterator[str]:
        yield from self._read
        yield from self._blobs

    def __len__(self) -> int:
        return len(self._read) + len(self._blobs)


@dataclass(slots=True)
class Page:
    messages: list[StoredMessage] = field(default_factory=list)
    chars: dict[str, int] = field(default_factory=dict)
    """The body's length of the messages whose texts were kept (their `body` is not read)."""
    bodies: Bodies = field(default_factory=lambda: Bodies({}, {}))


def read_page(
    store: Store,
    kept: KeptTexts,
    seq: int,
    limit: int,
    after: tuple[int, str] | None,
    max_bytes: int,
) -> Page:
    """`store.changed_since(seq, limit, after, max_bytes)`, the kept texts used (module doc)."""
    if after is None:
        where: str = "m.seq > ?"
        params: list[object] = [seq]
    else:
        where = "(m.seq > ? OR (m.seq = ? AND m.key > ?))"
        params = [after[0], after[0], after[1]]
    conn = store.conn
    sizes = conn.execute(
        f"SELECT m.raw_size FROM messages m WHERE {where} ORDER BY m.seq, m.key LIMIT ?",
        (*params, limit),
    )
    count = total = 0
    for (size,) in sizes:
        total += int(size or 0)
        if count and total > max_bytes:
            break
        count += 1
    if not count:
        return Page()
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM messages m WHERE {where} ORDER BY m.seq, m.key LIMIT ?",
        (*params, count),
    ).fetchall()
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
    page = Page()
    read: dict[str, str] = {}
    blobs: dict[str, tuple[bytes, int]] = {}
    for r in rows:
        key, blob = r[1], r[9]
        attachments = tuple(a[0] for a in json.loads(r[14]) if a[0]) if r[14] != "[]" else ()
        texts = kept.take(key, blob) if blob is not None and key in kept else None
        if texts is not None:
            body, own, quoted = "", texts[0], texts[1]
            page.chars[key] = texts[2]
            blobs[key] = (blob, r[10])
        else:
            body = body_text(blob, r[10]) if blob is not None else ""
            parts = split_body(body) if body else None
            own, quoted = (parts.own, parts.quoted) if parts is not None else ("", "")
            read[key] = body
        page.messages.append(
            StoredMessage(
                key=key,
                message_id=r[2],
                message_id_norm=r[3],
                from_name=r[4],
                from_addr=r[5],
                subject=r[6],
                subject_norm=r[7],
                date=datetime.fromtimestamp(r[8], UTC) if r[8] is not None else None,
                body=body,
                body_own=own,
                body_quoted=quoted,
                thread_id=r[11],
                parent_key=r[12],
                depth=r[13],
                lists=tuple(lists[r[0]]),
                attachments=attachments,
                flags=tuple(json.loads(r[15])) if r[15] != "[]" else (),
                seq=r[16],
                identity=r[17],
            )
        )
    page.bodies = Bodies(read, blobs)
    return page
