"""Rows the store hands out and accepts (besides the parsed `Message` in store.models)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store import content
from store.list_info import ListInfo as ListInfo  # where `lists` reads it (issue 14)
from store.models import Message

MESSAGE_COLUMNS = (
    "key",
    "message_id",
    "message_id_norm",
    "msgid_synthetic",
    "content_hash",
    "in_reply_to",
    "refs",
    "from_name",
    "from_addr",
    "to_json",
    "cc_json",
    "subject",
    "subject_norm",
    "list_tag",
    "date",
    "date_offset",
    "date_source",
    "body_bytes",
    "body_chars",
    "signature",
    "is_html_only",
    "attachments",
    "flags",
    "content",
    "raw_size",
    "raw_sha256",
    "unixfrom",
)
"""Columns of a stored message row, in the order of `StoredItem.row` (seq is added last).

The body and the raw bytes are one compressed stream, `content` (`store.content`); the
body's parts (own text, quoted text) are not stored: `store.reader` derives them from the
body (`store.body_parts.split_body`, issue 14)."""


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
"""`json.dumps(values, ensure_ascii=False)` without a new encoder a call (dumps makes one for
any option not the default): the same options and separators, the same bytes (task IN4)."""


def _json_list(values: list[Any]) -> str:
    return _ENCODE(values) if values else "[]"


def message_row(message: Message, raw: bytes) -> tuple[Any, ...]:
    """The messages-table row for a parsed message (built in the parsing worker)."""
    m = message
    packed, body_bytes, body_chars = content.pack(m.body, raw)
    return (
        m.key,
        m.message_id,
        m.message_id_norm,
        int(m.msgid_synthetic),
        m.content_hash,
        _json_list(list(m.in_reply_to)),
        _json_list(list(m.references)),
        m.from_.name,
        m.from_.address,
        _json_list([[a.name, a.address] for a in m.to]),
        _json_list([[a.name, a.address] for a in m.cc]),
        m.subject,
        m.subject_norm,
        m.list_tag,
        int(m.date.timestamp()) if m.date else None,
        m.date_offset_minutes,
        m.date_source,
        body_bytes,
        body_chars,
        m.signature,
        int(m.is_html_only),
        _json_list([[a.filename, a.content_type, a.size, a.scrubbed_url] for a in m.attachments]),
        _json_list(list(m.flags)),
        packed,
        len(raw),
        hashlib.sha256(raw).hexdigest(),
        m.unixfrom,
    )


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A parsed message ready to store: its table row (raw bytes compressed) and origin."""

    key: str
    row: tuple[Any, ...]
    origin: str
    position: int

    def __reduce__(self) -> tuple[type[StoredItem], tuple[str, tuple[Any, ...], str, int]]:
        # pickled as its four fields (batches go between processes): far cheaper both ways
        # than a frozen dataclass's default state protocol
        return (StoredItem, (self.key, self.row, self.origin, self.position))

    @classmethod
    def build(cls, message: Message, raw: bytes, origin: str, position: int) -> StoredItem:
        row = message_row(message, raw)  # its first column is the key: computed once
        return cls(key=row[0], row=row, origin=origin, position=position)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A message that could not be parsed: kept with its bytes and the reason."""

    origin: str
    position: int
    reason: str
    raw: bytes
    limits: str = ""
    """A message quarantined by a limit (larger than `sync.max_message_bytes`): the limits in
    force (JSON, `ingest.worker.Limits.oversized`); raising one reads its volume again."""

    @property
    def raw_sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True, slots=True)
class VolumeState:
    """Fetch state of one source file (a pipermail volume or a local mbox)."""

    name: str
    url: str
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    size: int = 0
    message_count: int = 0
    fetched_at: str = ""
    status: str = "ok"
    error: str = ""
    limits: str = ""
    """A failed volume: the volume-failing limits in force when it failed (JSON,
    `ingest.worker.Limits.in_force`); raising one retries it."""
    resume_offset: int = 0
    """A local mbox: the bytes of the file stored (it ended there with a newline); 0: none."""
    resume_fp: str = ""
    """A fingerprint of those bytes (`ingest.sources.mbox.fingerprint`): when it still holds
    and the file grew, only the bytes after `resume_offset` are read."""


@dataclass(slots=True)
class SaveCounts:
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    new_keys: list[str] = field(default_factory=list)
    removed: int = 0
    """Messages under a removal (`store.removals`): kept hidden, or not stored if purged."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as read back from the store."""

    key: str
    message_id: str
    message_id_norm: str
    from_name: str
    from_addr: str
    subject: str
    subject_norm: str
    date: datetime | None
    body: str
    body_own: str
    """Derived from `body` when read (`store.body_parts`); '' when read without bodies."""
    body_quoted: str
    thread_id: str | None
    parent_key: str | None
    depth: int | None
    lists: tuple[str, ...]
    attachments: tuple[str, ...]
    flags: tuple[str, ...]
    seq: int
    identity: int | None = None
    """The sender's identity (`store.identities`); None until one is assigned."""
