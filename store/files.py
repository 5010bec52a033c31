"""The store's files on disk: private modes, and what an empty store would hide.

The data directory is 0700 and every file in it 0600: the store holds password hashes,
private mail and rosters.  SQLite creates `-wal`, `-shm` and `-journal` with the mode of their
database file, so a database created here (`create_private`) before SQLite opens it keeps
its side files private too.  An existing file that others may read is tightened when its
owner opens it (with a log line), never loosened.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700
SIDE_FILES = ("-wal", "-shm", "-journal")
PAGE_SIZE = 16384
"""SQLite page size of a new store or index file (issue 14, store size: on twisted-python the
store takes 89.3 MB at 16384 against 97.1 MB at 4096 after a fresh sync, the difference the
unused last overflow page of each row larger than a page; docs/architecture.md, "Store size")."""


def side_files(path: Path) -> list[Path]:
    """The SQLite side files of the database at `path` (whether or not they exist)."""
    return [path.with_name(path.name + suffix) for suffix in SIDE_FILES]


def tighten(path: Path, wanted: int = FILE_MODE) -> None:
    """Take group and other permissions off `path` if it has some and we own it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(info.st_mode)
    if not current & 0o077:
        return
    if info.st_uid != os.geteuid():
        logger.warning("%s is readable by others (mode %o) and not ours to chmod", path, current)
        return
    path.chmod(current & wanted)
    logger.info("%s was readable by others (mode %o): now %o", path, current, current & wanted)


def create_private(path: Path) -> Path:
    """Make sure the database file `path` exists with mode 0600 before SQLite opens it (its
    side files then get the same mode); an existing one and its side files are tightened.
    The parent directory is created 0700 when missing."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)
    for side in side_files(path):
        tighten(side)
    return path


def holds_data(path: Path) -> bool:
    """`path` is a file with at least one byte in it."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def data_beside(path: Path) -> list[Path]:
    """The side files of the database at `path` that hold data (a write-ahead log left by
    a store that was there)."""
    return [side for side in side_files(path) if holds_data(side)]
