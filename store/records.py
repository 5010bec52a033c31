"""Rows the store hands out and accepts (besides the parsed `Message` in store.models)."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from store.models import Message


def compress_raw(raw: bytes) -> bytes:
    return zlib.compress(raw, 1)


def decompress_raw(data: bytes) -> bytes:
    return zlib.decompress(data)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A parsed message ready to store, with its raw bytes compressed."""

    message: Message
    raw_z: bytes
    raw_size: int
    raw_sha256: str
    origin: str
    position: int

    @classmethod
    def build(cls, message: Message, raw: bytes, origin: str, position: int) -> StoredItem:
        return cls(
            message=message,
            raw_z=compress_raw(raw),
            raw_size=len(raw),
            raw_sha256=hashlib.sha256(raw).hexdigest(),
            origin=origin,
            position=position,
        )


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A message that could not be parsed: kept with its bytes and the reason."""

    origin: str
    position: int
    reason: str
    raw: bytes

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


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: int
    name: str
    source: str
    url: str
    paths: tuple[str, ...]
    community: str
    created_at: str
    last_sync: str | None
    messages: int = 0


@dataclass(slots=True)
class SaveCounts:
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    new_keys: list[str] = field(default_factory=list)


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
    body_quoted: str
    thread_id: str | None
    parent_key: str | None
    depth: int | None
    lists: tuple[str, ...]
    attachments: tuple[str, ...]
    flags: tuple[str, ...]
    seq: int
