"""A consistent copy of the store while sync and web run: SQLite's online backup API.

The copy is taken in one backup step inside one read transaction, so it is the store as of
one instant (whole volumes only, every message with its memberships).  In WAL mode a reader
blocks no writer: a sync goes on writing while the copy is made (its write-ahead log grows
until the copy ends); a copy taken page by page would instead restart after every write.
The copy is written to a private (0600) temporary file beside the target, made a single
self-contained file (journal mode DELETE, no `-wal` to carry along), checked with
`PRAGMA quick_check`, then renamed over the target: a target never holds half a backup.

The search index is not copied: it is derived from the store (`listarchive reindex`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from store import files
from store.errors import StoreError

logger = logging.getLogger(__name__)


class BackupError(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    source: Path
    bytes: int
    messages: int
    lists: int
    duration: float

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "source": str(self.source),
            "bytes": self.bytes,
            "messages": self.messages,
            "lists": self.lists,
            "duration": round(self.duration, 3),
        }


def target_path(target: Path, now: datetime | None = None) -> Path:
    """`target` itself, or a dated file name in it when it is a directory."""
    if target.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        return target / f"store-{stamp}.db"
    return target


def backup(source: Path, target: Path) -> BackupResult:
    """Copy the store at `source` to `target` (a file, or a directory for a dated file)."""
    started = time.monotonic()
    if not files.holds_data(source):
        raise BackupError(f"no store at {source} to back up")
    target = target_path(target)
    if target.resolve() == source.resolve():
        raise BackupError(f"{target} is the store itself: back up to another file")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such directory")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    for stale in (temporary, *files.side_files(temporary)):
        stale.unlink(missing_ok=True)
    files.create_private(temporary)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(temporary)
            try:
                src.backup(dst)  # one step: one read transaction, one instant of the store
                dst.execute("PRAGMA journal_mode = DELETE")
                found = dst.execute("PRAGMA quick_check").fetchone()
                if found is None or found[0] != "ok":
                    raise BackupError(f"the copy of {source} failed its check: {found}")
                messages = int(dst.execute("SELECT count(*) FROM messages").fetchone()[0])
                lists = int(dst.execute("SELECT count(*) FROM lists").fetchone()[0])
            finally:
                dst.close()
        finally:
            src.close()
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _sync_directory(target.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} to {target} failed: {exc}") from exc
    finally:
        for leftover in (temporary, *files.side_files(temporary)):
            leftover.unlink(missing_ok=True)
    result = BackupResult(
        target, source, target.stat().st_size, messages, lists, time.monotonic() - started
    )
    logger.info("backed up %s to %s (%d bytes)", source, target, result.bytes)
    return result


def _sync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
