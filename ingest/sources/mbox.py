"""Local mbox files (`.mbox`, `.mbox.gz`, mboxo/mboxrd), e.g. full-header Mailman or ezmlm mboxes.

One volume per file.  A file is re-read only when its size, mtime or content hash changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import SourceError
from ingest.mboxstream import CHUNK
from ingest.sources.base import Download, Volume, carry, remembered, split_text_volume
from ingest.sources.maildir import maildir_of
from store.models import RawMessage
from store.records import VolumeState

logger = logging.getLogger(__name__)


class MboxSource:
    kind = "mbox"
    local = True
    """The user pointed at files: finding none is worth a warning (`ingest.sync`)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.warnings: list[str] = []

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
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while piece := handle.read(CHUNK):
                    digest.update(piece)
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
        )
        if remembered(previous) and previous is not None and previous.sha256 == state.sha256:
            return Download(volume, "unchanged", state=carry(previous, state))
        return Download(volume, "fetched", state=state, path=str(path))

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        return split_text_volume(volume, data)
