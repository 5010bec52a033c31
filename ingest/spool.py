"""Private temporary files of a sync: downloaded volumes and parsed batches, on disk.

A volume is never held in memory whole: its download is written to a spool file as it
streams in, the parser worker reads it from there, and writes the parsed messages back in
bounded batches to another spool file, which the sync process stores batch by batch.

Each process spools into its own directory `<root>/sync-<pid>-<random>/` (0700, files 0600:
archives may be private), removed when the run closes it; a directory whose process is gone
(killed, crashed) is removed by the next `Spool` made under the same root.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

_LIVE: set[str] = set()
"""This process's spool directories (a leftover may carry our pid: pids are reused)."""

PREFIX = "sync-"
FILE_MODE = 0o600
DIR_MODE = 0o700


class Spool:
    """One process's spool directory, made on first use under `root` (default: the system
    temporary directory)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._dir: Path | None = None

    @property
    def directory(self) -> Path:
        if self._dir is None:
            root = self.root or Path(tempfile.gettempdir())
            root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            clean_leftovers(root)
            self._dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
            _LIVE.add(self._dir.name)
        return self._dir

    def new_file(self, suffix: str) -> Path:
        """A new empty file (0600) in the spool directory."""
        fd, name = tempfile.mkstemp(suffix=suffix, dir=self.directory)
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        return Path(name)

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            _LIVE.discard(self._dir.name)
            self._dir = None


def discard(path: str | Path) -> None:
    """Delete a spool file (gone already: fine)."""
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def discard_all(paths: Sequence[str]) -> None:
    """Delete spool files (in a parser worker: `ingest.sync_store.SpoolDeleter`)."""
    for path in paths:
        discard(path)


def clean_leftovers(root: Path) -> int:
    """Remove the spool directories under `root` whose process no longer runs; returns how
    many.  Another live sync's directory is left alone."""
    removed = 0
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    for entry in entries:
        pid = _owner(entry.name)
        if pid is None or entry.name in _LIVE or not entry.is_dir():
            continue
        if pid != os.getpid() and _alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        logger.info("removed %d spool directories left by ended syncs in %s", removed, root)
    return removed


def _owner(name: str) -> int | None:
    if not name.startswith(PREFIX):
        return None
    pid = name[len(PREFIX) :].split("-", 1)[0]
    return int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
