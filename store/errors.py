"""The store's errors (in their own module so that `store.files` and `store.faults` can raise
them without importing `store.store`)."""

from __future__ import annotations

from pathlib import Path

RESTORE = "restore it from a backup (README, 'Backups'); `listarchive check` reports the details"


class StoreError(Exception):
    """Base class of store errors."""


class StoreCorruptError(StoreError):
    """The store file is damaged, or is not the store that was there: empty or missing while
    data of an earlier store lies beside it.  The message names the file and what to do."""

    def __init__(self, path: Path, problem: str, remedy: str = RESTORE) -> None:
        super().__init__(f"{path}: {problem}: {remedy}")
        self.path = path
        self.problem = problem


class StoreAccessError(StoreError):
    """The store file cannot be opened, read or written (permissions, a read-only or failing
    disk); the message names the file and the reason."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"cannot use the store {path}: {problem} (check the data directory's owner, "
            "permissions and disk)"
        )
        self.path = path
        self.problem = problem


class StoreFullError(StoreError):
    """The disk (or the database's size limit) holding the store is full: the write was
    rolled back, the store is as it was before it."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"the disk holding {path} is full")
        self.path = path


class StoreVersionError(StoreError):
    """The store's schema is newer than this program knows (a downgrade, or a store copied
    from a newer installation): nothing is read or written; the message names both versions."""

    def __init__(self, path: Path, version: int, program: int) -> None:
        super().__init__(
            f"{path}: the store's schema version {version} is newer than this program's "
            f"({program}): run the newer listarchive that wrote it, or restore a backup made "
            "by this version (README, 'Backups')"
        )
        self.path = path
        self.version = version
        self.program = program
