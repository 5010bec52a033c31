"""Helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

# `listarchive --help` imports neither the settings nor the store (issue 14, CLI start-up):
# they are imported when a command runs.
if TYPE_CHECKING:
    from config.settings import Settings
    from store.store import Store

STORE_UNUSABLE_EXIT = 3


class StoreUnusable(click.ClickException):
    """The store is damaged, missing beside an index, newer than this program, or cannot be
    read or written: the message says which file and what to do; exit code 3."""

    exit_code = STORE_UNUSABLE_EXIT


class IndexUnusable(click.ClickException):
    """The search index cannot answer for the store (lost, emptied, another store's): the
    message says to run `listarchive reindex`; exit code 3, as for an unusable store."""

    exit_code = STORE_UNUSABLE_EXIT


class Group(click.Group):
    """The `listarchive` group: an SQLite error that means the store is damaged or unusable,
    met by any command at any point, ends the command with the store's message (exit 3),
    never with a traceback; a store kept busy by another writer past the busy timeout ends
    it with a message too (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        from store import faults
        from store.errors import (
            StoreAccessError,
            StoreCorruptError,
            StoreFullError,
            StoreVersionError,
        )

        try:
            return super().invoke(ctx)
        except (
            sqlite3.Error,
            StoreCorruptError,
            StoreAccessError,
            StoreFullError,
            StoreVersionError,
        ) as exc:
            settings = (ctx.obj or {}).get("settings")
            if settings is None:
                raise
            found = faults.classify(exc, settings.store_path)
            if found is None and faults.is_busy(exc):
                raise click.ClickException(
                    f"the store is busy ({exc}): another process is writing to it "
                    "(a sync?); run the command again when it is done"
                ) from exc
            if found is None:
                raise
            if isinstance(found, StoreFullError):
                raise StoreUnusable(f"{found}: free space and run the command again") from exc
            raise StoreUnusable(str(found)) from exc


def current_settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


@contextmanager
def store_errors() -> Iterator[None]:
    """Store and configuration errors as click errors: exit 3 when the store is unusable."""
    from config.settings import ConfigError
    from store.errors import StoreAccessError, StoreCorruptError, StoreFullError, StoreVersionError
    from store.store import StoreError

    try:
        yield
    except (StoreCorruptError, StoreAccessError, StoreVersionError) as exc:
        raise StoreUnusable(str(exc)) from exc
    except StoreFullError as exc:
        raise StoreUnusable(f"{exc}: free space and run the command again") from exc
    except (ConfigError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc


def open_reader(settings: Settings) -> Store | None:
    """The store opened read-only, for a command that only reads (`lists`), when that answers
    as `app.open_store` would; None when it must be opened for writing: no store yet, or
    lists or communities in the settings file to apply.  A store of an older schema is
    migrated first by the read-only `Store` itself (a writing open, once, logged), so it is
    read-only here after; the version is checked again all the same.  A reader takes no write
    lock (a sync in progress does not hold it up, except while it migrates) and leaves no log
    to checkpoint."""
    from store import files
    from store.schema import MIGRATIONS, current_version
    from store.store import Store

    if settings.lists or settings.communities or not files.holds_data(settings.store_path):
        return None
    # a reader tightens an exposed store as the writer's open does (it never creates one)
    for path in (settings.store_path, *files.side_files(settings.store_path)):
        files.tighten(path)
    store = Store(settings.store_path, readonly=True)
    try:
        if current_version(store.conn) == len(MIGRATIONS):
            return store
    except BaseException:
        store.close()
        raise
    store.close()
    return None


class StoreSession:
    """`with store_session(ctx) as store:` opens the store with clear errors, closes it after.
    `reading`: the command only reads, so the store is opened read-only when that answers the
    same (`open_reader`)."""

    def __init__(self, ctx: click.Context, *, reading: bool = False) -> None:
        self.ctx = ctx
        self.reading = reading

    def __enter__(self) -> Store:
        from config.settings import ensure_data_dir
        from listarchive import app

        settings = current_settings(self.ctx)
        with store_errors():
            ensure_data_dir(settings)
            reader = open_reader(settings) if self.reading else None
            self.store = reader if reader is not None else app.open_store(settings)
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def store_session(ctx: click.Context, *, reading: bool = False) -> StoreSession:
    return StoreSession(ctx, reading=reading)
