"""The shape every archive source has: list volumes, download one, split it into messages.

Downloading is separate from splitting/parsing: `download` does I/O and hands over the volume
as a file (a spool file for an archive on the web, `ingest.spool`; the file itself for a local
mbox) or says it is unchanged; `split` is a pure function of bytes.

A volume that failed after its bytes were read (a limit, bytes that are no archive) keeps its
validators and sha256 (`remembered`): the next run asks conditionally, and unchanged bytes are
reported failed again without being downloaded or parsed again (`ingest.sync`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from ingest.mboxstream import bytes_chunks, split_stream, volume_text
from ingest.spool import discard
from store.models import RawMessage
from store.records import VolumeState

DownloadStatus = Literal["fetched", "unchanged", "failed"]


@dataclass(frozen=True, slots=True)
class Volume:
    """One archive file: a pipermail month/quarter/year/week, or one local mbox file."""

    name: str
    """Stable name within the list, e.g. `2008-May` or `2016q1` or a file name."""
    url: str
    """Where it is fetched from: an http(s) URL or a local path."""
    fallback_url: str = ""
    """Tried when `url` does not exist (pipermail: the `.txt.gz` when `.txt` is missing)."""


@dataclass(frozen=True, slots=True)
class Download:
    volume: Volume
    status: DownloadStatus
    data: bytes = b""
    state: VolumeState | None = None
    """New fetch state to record (None when failed before anything was learned)."""
    error: str = ""
    requests: int = 0
    path: str = ""
    """A file holding the volume, read (as a stream) by the parser instead of `data`."""
    temporary: bool = False
    """`path` is a spool file of this run: deleted once the volume is stored or failed."""
    start: int = 0
    """Read `path` from this offset: the bytes before it are stored already (a local mbox
    that grew, `ingest.sources.mbox`); its messages are numbered from `first_position`."""
    first_position: int = 0

    def discard(self) -> None:
        """Delete the volume's spool file, if it has one."""
        if self.temporary:
            discard(self.path)


def remembered(previous: VolumeState | None) -> bool:
    """`previous` is a state a conditional check can answer: a volume stored, or one that
    failed after its bytes were read (its failure holds while they are unchanged)."""
    return previous is not None and (
        previous.status == "ok" or (previous.status == "failed" and bool(previous.sha256))
    )


def carry(previous: VolumeState, state: VolumeState) -> VolumeState:
    """`state` (the new validators of the same bytes) with what `previous` knew of them:
    their message count, or their failure (and the limits it happened under)."""
    return dataclasses.replace(
        state,
        message_count=previous.message_count,
        status=previous.status,
        error=previous.error,
        limits=previous.limits,
    )


class Source(Protocol):
    kind: str

    def volumes(self) -> list[Volume]:
        """Discover the archive's volumes, oldest first. Raises SourceError when unreachable."""
        ...

    def download(self, volume: Volume, previous: VolumeState | None) -> Download:
        """Fetch one volume, cheaply reporting `unchanged` when `previous` still holds."""
        ...

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        """Cut a downloaded volume into raw messages (pure)."""
        ...


def split_text_volume(
    volume: Volume, data: bytes, max_volume_bytes: int = 1 << 62
) -> Iterator[RawMessage]:
    """Split an mbox-format volume (pipermail text archive or mbox file), gzipped or not, as
    a stream (`ingest.mboxstream`; the sync's parser applies the message limit itself)."""
    text = volume_text(bytes_chunks(data), volume.url, max_volume_bytes)
    for position, piece in enumerate(split_stream(text, 1 << 62)):
        yield RawMessage(
            raw=piece.raw, origin=volume.name, position=position, unixfrom=piece.unixfrom
        )
