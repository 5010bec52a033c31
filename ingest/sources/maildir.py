"""Local Maildir folders: one message per file in `cur/` and `new/` (`tmp/` holds deliveries
in progress and is ignored, as are dot files and Maildir++ subfolders: the rules of the
stdlib `mailbox.Maildir`).  Flags (the `:2,S` info suffix) are ignored.

Volumes: the files of a Maildir are grouped by delivery month, read from the timestamp that
starts every standard unique name (`1700000000.M123P45.host`); names without one fall into
16 `other-X` groups by a hash of the name.  A volume is a group's files in `cur/` and `new/`
together, so reading a message (moved from `new/` to `cur/`) or flagging it (renamed) leaves
its volume unchanged.  A volume's fetch state is a digest of its (unique name, size) list:
a re-sync lists the directories and reads only the volumes whose list changed (new mail lands
in the newest month).  `download` reads no message; the parser worker reads the files of the
volume one at a time (`read_pieces`), within `sync.max_message_bytes` and
`sync.max_volume_bytes`, and keeps each message's bytes as they are on disk.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import SourceError
from ingest.mboxsplit import _FROM_LINE
from ingest.mboxstream import KEEP, Piece, VolumeTooLarge
from ingest.sources.base import Download, Volume, remembered
from store.models import RawMessage
from store.records import VolumeState

logger = logging.getLogger(__name__)

SUBDIRS = ("cur", "new")
COLON = ":"
"""Separates a file's unique name from its info (flags), as in `mailbox.Maildir.colon`."""
_TIMESTAMP = re.compile(r"^(\d{9,10})(?:[._]|$)")
_UNLIMITED = 1 << 62


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in SUBDIRS)


def maildir_of(path: Path) -> Path | None:
    """The Maildir `path` is, or whose `cur/`, `new/` or `tmp/` it is; None otherwise."""
    if is_maildir(path):
        return path
    if path.name in (*SUBDIRS, "tmp") and is_maildir(path.parent):
        return path.parent
    return None


@dataclass(frozen=True, slots=True)
class _Entry:
    unique: str
    relative: str
    """`cur/NAME` or `new/NAME`, from the Maildir's root."""
    size: int


def bucket_of(unique: str) -> str:
    """The volume a message file belongs to: its delivery month (`2024-05`), or `other-X`."""
    found = _TIMESTAMP.match(unique)
    if found:
        when = datetime.fromtimestamp(int(found.group(1)), UTC)
        return f"{when:%Y-%m}"
    return "other-" + hashlib.sha1(unique.encode("utf-8", "surrogateescape")).hexdigest()[0]


def _scan(root: Path) -> dict[str, list[_Entry]]:
    """The message files of a Maildir, by volume, each sorted by unique name."""
    buckets: dict[str, list[_Entry]] = {}
    for sub in SUBDIRS:
        with os.scandir(root / sub) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                    continue
                unique = entry.name.split(COLON, 1)[0]
                size = entry.stat(follow_symlinks=False).st_size
                buckets.setdefault(bucket_of(unique), []).append(
                    _Entry(unique, f"{sub}/{entry.name}", size)
                )
    for found in buckets.values():
        found.sort(key=lambda e: (e.unique, e.relative))
    return buckets


def _digest(entries: Sequence[_Entry]) -> str:
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(f"{entry.unique}\0{entry.size}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class MaildirSource:
    kind = "maildir"
    local = True
    """The user pointed at files: finding none is worth a warning (`ingest.sync`)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = [Path(p) for p in paths]
        self.warnings: list[str] = []
        self._listing: dict[str, list[_Entry]] = {}

    def volumes(self) -> list[Volume]:
        roots = []
        for path in self.paths:
            if not path.exists():
                raise SourceError(str(path), "no such file or directory")
            root = maildir_of(path)
            if root is None:
                raise SourceError(str(path), "not a Maildir (no cur/ and new/ folders)")
            roots.append(root.resolve())
        named = len({r.name for r in roots}) == len(roots)
        volumes: list[Volume] = []
        self._listing = {}
        for root in roots:
            try:
                buckets = _scan(root)
            except OSError as exc:
                raise SourceError(str(root), f"cannot list: {exc.strerror}") from exc
            prefix = "" if len(roots) == 1 else f"{root.name if named else root}/"
            if not buckets:
                self.warnings.append(f"the Maildir {root} holds no message (cur/ and new/)")
            for bucket in sorted(buckets):
                volume = Volume(name=prefix + bucket, url=str(root))
                self._listing[volume.name] = buckets[bucket]
                volumes.append(volume)
        return volumes

    def _entries(self, volume: Volume) -> list[_Entry]:
        if volume.name not in self._listing:  # not listed by this instance: list it now
            bucket = volume.name.rsplit("/", 1)[-1]
            self._listing[volume.name] = _scan(Path(volume.url)).get(bucket, [])
        return self._listing[volume.name]

    def download(self, volume: Volume, previous: VolumeState | None) -> Download:
        """Lists the volume's files (no message is read here): unchanged when the list of
        (unique name, size) is the one recorded."""
        try:
            entries = self._entries(volume)
        except OSError as exc:
            return Download(volume, "failed", error=f"cannot list {volume.url}: {exc.strerror}")
        digest = _digest(entries)
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        state = VolumeState(
            name=volume.name,
            url=volume.url,
            sha256=digest,
            size=sum(e.size for e in entries),
            fetched_at=now,
            message_count=previous.message_count if previous else 0,
        )
        if remembered(previous) and previous is not None and previous.sha256 == digest:
            return Download(volume, "unchanged", state=previous)
        data = b"\0".join(os.fsencode(e.relative) for e in entries)
        return Download(volume, "fetched", data=data, state=state)

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        for position, piece in enumerate(read_pieces(volume, data, _UNLIMITED, _UNLIMITED)):
            yield RawMessage(piece.raw, volume.name, position, piece.unixfrom)


def _moved(root: Path, relative: str) -> Path | None:
    """Where a file listed at `relative` is now (read: moved to cur/, or flagged: renamed)."""
    unique = relative.split("/", 1)[-1].split(COLON, 1)[0]
    for sub in SUBDIRS:
        for candidate in (root / sub).glob(f"{glob_escape(unique)}*"):
            if candidate.name == unique or candidate.name.startswith(unique + COLON):
                return candidate
    return None


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def read_pieces(
    volume: Volume,
    data: bytes,
    max_volume_bytes: int,
    max_message_bytes: int,
    keep: int = KEEP,
) -> Iterator[Piece]:
    """The messages of a Maildir volume (`data`: its files, as `download` listed them), one
    file at a time.  A file larger than `max_message_bytes` yields its first `keep` bytes only
    (`truncated`, to be quarantined); past `max_volume_bytes` in all the volume fails
    (`VolumeTooLarge`).  A file gone since the listing (deleted) is skipped.  A leading
    mbox From_ line (a Maildir converted from mbox) is taken as the envelope."""
    if not data:
        return
    root = Path(volume.url)
    total = 0
    for relative in (os.fsdecode(r) for r in data.split(b"\0")):
        try:
            handle = (root / relative).open("rb")
        except FileNotFoundError:
            moved = _moved(root, relative)
            if moved is None:
                logger.info("%s: %s is gone since it was listed", volume.name, relative)
                continue
            handle = moved.open("rb")
        with handle:
            size = os.fstat(handle.fileno()).st_size
            total += size
            if total > max_volume_bytes:
                raise VolumeTooLarge(
                    volume.url, f"is more than {max_volume_bytes} bytes (sync.max_volume_bytes)"
                )
            raw = handle.read(min(size, max_message_bytes) + 1)
            if len(raw) > max_message_bytes:
                yield Piece("", raw[:keep], max(size, len(raw)), truncated=True)
                continue
        yield _envelope(raw)


def _envelope(raw: bytes) -> Piece:
    if raw.startswith(b"From "):
        line, _, rest = raw.partition(b"\n")
        if _FROM_LINE.match(line):
            return Piece(line[5:].decode("latin-1").strip(), rest, len(raw))
    return Piece("", raw, len(raw))


def local_path_problem(path: Path, kind: str) -> str | None:
    """Why `path` cannot be a source of `kind` (`mbox` or `maildir`), or None: a Maildir
    given as an mbox would import nothing, as would a Maildir's `cur/` or `new/`."""
    if not path.exists():
        return f"{path}: no such file or directory"
    root = maildir_of(path)
    if kind == "mbox":
        if root is not None:
            return f"{path} is a Maildir: use --maildir {root}"
        return None
    if root is None:
        return f"{path}: not a Maildir (it has no cur/ and new/ folders)"
    if root != path:
        return f"{path} is the {path.name}/ folder of the Maildir {root}: use --maildir {root}"
    return None
