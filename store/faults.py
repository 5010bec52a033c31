"""Name what went wrong when SQLite fails on the store: damage, or a file that cannot be used.

`classify` maps a `sqlite3.Error` to a `StoreCorruptError` (the file is damaged: restore a
backup), a `StoreAccessError` (permissions, a read-only or failing disk) or a `StoreFullError`
(the disk is full), and gives None for everything else (a busy database, a programming error),
which keeps its own handling.  The store's opener, the CLI and the web's error handler all
use it, so a damaged store reads the same everywhere.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store.errors import StoreAccessError, StoreCorruptError, StoreError, StoreFullError

# primary result codes (https://sqlite.org/rescode.html)
_PERM, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN = 3, 8, 10, 11, 13, 14
_FORMAT, _NOTADB = 24, 26
DAMAGE = frozenset({_CORRUPT, _FORMAT, _NOTADB})
ACCESS = frozenset({_PERM, _READONLY, _IOERR, _CANTOPEN})
_DAMAGE_WORDS = ("malformed", "not a database", "file is encrypted")


def classify(exc: BaseException, path: Path) -> StoreError | None:
    """The store error that `exc` (raised by SQLite on the store at `path`) means, if any."""
    if isinstance(exc, StoreError):
        return exc
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in DAMAGE or (primary is None and any(w in text for w in _DAMAGE_WORDS)):
        return StoreCorruptError(path, f"the store is damaged ({text})")
    if primary == _FULL or (primary is None and "database or disk is full" in text):
        return StoreFullError(path)
    if primary in ACCESS:
        return StoreAccessError(path, text)
    return None


_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` is SQLite giving up on a lock another connection holds (past the busy
    timeout): nothing is wrong with the store, the command can be run again."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _BUSY
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text
