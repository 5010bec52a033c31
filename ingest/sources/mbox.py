"""Local mbox files (`.mbox`, `.mbox.gz`, mboxo/mboxrd), e.g. full-header Mailman or ezmlm mboxes.

One volume per file.  A file is re-read only when its size, mtime or content hash changed;
a plain (not gzipped) file that only grew is read from where the last sync stopped
(`VolumeState.resume_offset`) when a fingerprint of the bytes before still matches
(`fingerprint`); any other change reads it whole again (its known messages are duplicates).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ingest.chunked import range_chunks
from ingest.errors import SourceError
from ingest.mboxstream import CHUNK, ChunkSource
from ingest.sources.base import Download, Volume, carry, remembered, split_text_volume
from ingest.sources.maildir import maildir_of
from store.models import RawMessage
from store.records import VolumeState

logger = logging.getLogger(__name__)

HEAD_BYTES = 4096
TAIL_BYTES = 64 * 1024
SAMPLES = 32
SAMPLE_BYTES = 1024
"""The fingerprint of a file's first `n` bytes: their count, the first HEAD_BYTES, the last
TAIL_BYTES and SAMPLES blocks of SAMPLE_BYTES evenly spaced in between (at most ~100 KiB
read, however large the file)."""


def fingerprint(handle: BinaryIO, size: int) -> tuple[str, int]:
    """(sha256 hex of the sampled bytes of the first `size` bytes of `handle`, bytes read).

    Trade-off: reading the whole prefix would cost the file's size at every sync (the bytes
    a grown file must not cost).  This detects a file truncated, rewritten, or with
    anything inserted or removed before `size` (its tail moves), and edits that touch the
    head, the tail or a sample; an in-place edit of the same length elsewhere goes unseen
    (such a message keeps its stored version)."""
    digest = hashlib.sha256(str(size).encode())
    spans = [(0, min(HEAD_BYTES, size)), (max(0, size - TAIL_BYTES), size)]
    step = size // (SAMPLES + 1)
    spans += [(step * i, min(size, step * i + SAMPLE_BYTES)) for i in range(1, SAMPLES + 1)]
    read = 0
    for start, end in spans:
        handle.seek(start)
        block = handle.read(end - start)
        read += len(block)
        digest.update(block)
    return digest.hexdigest(), read


class MboxSource:
    kind = "mbox"
    local = True
    """The user pointed at files: finding none is worth a warning (`ingest.sync`)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.warnings: list[str] = []
        self.bytes_read = 0
        """Bytes read from the files (hashing, fingerprints, parsing): a grown file costs
        about the bytes it grew by."""

    def volumes(self) -> list[Volume]:
        """The files, or a directory's `.mbox`, `.mbox.gz` and `.eml` files; a Maildir (or
        its `cur/`, `new/`) fails the run: it would import nothing (use a Maildir source)."""
        files: list[Path] = []
        for path in self.paths:
            root = maildir_of(path)
            if root is not None:
                raise SourceError(str(path), f"is a Maildir: use --maildir {root}")
            if path.is_dir():
                found = sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.name.endswith((".mbox", ".mbox.gz", ".eml"))
                )
                if not found:
                    self.warnings.append(f"{path} holds no .mbox, .mbox.gz or .eml file")
                files.extend(found)
            elif path.is_file():
                files.append(path)
            else:
                raise SourceError(str(path), "no such file or directory")
        return [
            Volume(
                name=p.name if len(files) == len({f.name for f in files}) else str(p),
                url=str(p.resolve()),
            )
            for p in files
        ]

    def download(self, volume: Volume, previous: VolumeState | None) -> Download:
        """The file is hashed in pieces and handed to the parser by path: it is never held in
        memory whole, however large (the parser applies `sync.max_volume_bytes`)."""
        path = Path(volume.url)
        try:
            stat = path.stat()
            stamp = datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0).isoformat()
            if (
                remembered(previous)
                and previous is not None
                and previous.size == stat.st_size
                and previous.last_modified == stamp
            ):
                return Download(volume, "unchanged", state=previous)
            grown = self._grown(volume, path, stat.st_size, stamp, previous)
            if grown is not None:
                return grown
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while piece := handle.read(CHUNK):
                    self.bytes_read += len(piece)
                    digest.update(piece)
                offset, mark = self._resume_point(handle, stat.st_size)
        except OSError as exc:
            return Download(volume, "failed", error=f"cannot read {path}: {exc.strerror}")
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        state = VolumeState(
            name=volume.name,
            url=volume.url,
            last_modified=stamp,
            sha256=digest.hexdigest(),
            size=stat.st_size,
            fetched_at=now,
            message_count=previous.message_count if previous else 0,
            resume_offset=offset,
            resume_fp=mark,
        )
        if remembered(previous) and previous is not None and previous.sha256 == state.sha256:
            return Download(volume, "unchanged", state=carry(previous, state))
        return Download(volume, "fetched", state=state, path=str(path))

    def _resume_point(self, handle: BinaryIO, size: int) -> tuple[int, str]:
        """Where a later sync may resume: the end, if the file is plain mbox text (not gzip)
        ending with a newline (its last message complete); else (0, "")."""
        if size < 2:
            return 0, ""
        handle.seek(0)
        magic = handle.read(2)
        handle.seek(size - 1)
        last = handle.read(1)
        self.bytes_read += 3
        if magic == b"\x1f\x8b" or last != b"\n":
            return 0, ""
        mark, read = fingerprint(handle, size)
        self.bytes_read += read
        return size, mark

    def _grown(
        self, volume: Volume, path: Path, size: int, stamp: str, previous: VolumeState | None
    ) -> Download | None:
        """The file only grew since it was stored: its new end (from the resume offset)."""
        if previous is None or previous.status != "ok" or not previous.resume_fp:
            return None
        start = previous.resume_offset
        if not 0 < start < size:
            return None
        with path.open("rb") as handle:
            mark, read = fingerprint(handle, start)
            handle.seek(start)
            head = handle.read(5)
            self.bytes_read += read + len(head)
            if mark != previous.resume_fp or head != b"From ":
                logger.info("%s: changed before the %d bytes stored: read whole", path, start)
                return None
            offset, mark = self._resume_point(handle, size)
        state = VolumeState(
            name=volume.name,
            url=volume.url,
            last_modified=stamp,
            size=size,
            fetched_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            message_count=previous.message_count,
            resume_offset=offset,
            resume_fp=mark,
        )
        logger.info("%s: grew from %d to %d bytes: reading the new end", path, start, size)
        return Download(
            volume,
            "fetched",
            state=state,
            path=str(path),
            start=start,
            first_position=previous.message_count,
        )

    def reader(self, download: Download) -> ChunkSource:
        """The bytes of a fetched file to parse (from `download.start`, up to the size it had
        when it was checked: what is appended meanwhile waits for the next sync), counted."""
        assert download.state is not None
        chunks = range_chunks(Path(download.path), download.start, download.state.size)

        def counted() -> Iterator[bytes]:
            for piece in chunks():
                self.bytes_read += len(piece)
                yield piece

        return counted

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        return split_text_volume(volume, data)
