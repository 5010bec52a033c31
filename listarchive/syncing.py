"""A sync behind the CLI and the scheduler: the HTTP client, the parser workers' bounds and
each list's source from the settings, then every selected list synced under its lock while
the search index catches up (`sync`)."""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from config.settings import Settings
from listarchive.app import UsageError
from store import list_origins
from store.store import Store, UnknownListError

# Like `listarchive.app`, the ingest pipeline, the sync's locks and run records and the
# search backends are imported where they are used (issue 14, CLI start-up).
if TYPE_CHECKING:
    from ingest.http import HttpFetcher
    from ingest.sources.base import Source
    from ingest.sync import Limits, RunSummary
    from search.base import SearchBackend
    from store.records import ListInfo

logger = logging.getLogger(__name__)


def make_fetcher(settings: Settings) -> HttpFetcher:
    """The HTTP client of one command or job, configured by the `sync.*` settings: per-read
    timeout, retries, a total deadline and a size bound per request."""
    from ingest.http import HttpFetcher

    return HttpFetcher(
        timeout=settings["sync.timeout"],
        retries=settings["sync.retries"],
        user_agent=settings["sync.user_agent"],
        request_deadline=settings["sync.request_deadline"],
        max_bytes=settings["sync.max_download_bytes"],
        spool_root=spool_root(settings),
        max_redirects=settings["sync.max_redirects"],
    )


def worker_limits(settings: Settings) -> Limits:
    """The `sync.*` bounds a parser worker applies (sync and reparse)."""
    from ingest.sync import Limits

    return Limits(
        max_volume_bytes=settings["sync.max_volume_bytes"],
        max_message_bytes=settings["sync.max_message_bytes"],
        max_mime_depth=settings["sync.max_mime_depth"],
        batch_messages=settings["sync.batch_messages"],
        batch_bytes=settings["sync.batch_bytes"],
        dedup_digests=settings["sync.dedup_digests"],
        quarantine_keep_bytes=settings["sync.quarantine_keep_bytes"],
        max_deep_parts=settings["sync.max_deep_parts"],
    )


def spool_root(settings: Settings) -> Path:
    """Where a sync spools downloads and parsed batches (`ingest.spool`): the data dir's
    `tmp/`, private like the store."""
    return settings.data_dir / "tmp"


def make_source(
    settings: Settings,
    info: ListInfo,
    fetcher: HttpFetcher,
    *,
    allow_origins: Sequence[str] = (),
) -> Source:
    """The list's source; its requests go to its URL's origin and `allow_origins` only (the
    list's declared ones: `store.list_origins.allowed_origins`)."""
    from config.secrets import archive_credentials
    from ingest.sources.hyperkitty import HyperKittySource
    from ingest.sources.maildir import MaildirSource
    from ingest.sources.mbox import MboxSource
    from ingest.sources.pipermail import PipermailSource

    if info.source == "pipermail":
        # private archives' logins are looked up only when needed, never from the config
        return PipermailSource(
            info.url,
            fetcher,
            list_name=info.name,
            credentials=lambda: archive_credentials(info.name),
            allow_origins=allow_origins,
            max_renewals=settings["sync.max_login_renewals"],
        )
    if info.source == "mbox":
        return MboxSource(info.paths)
    if info.source == "maildir":
        return MaildirSource(info.paths)
    if info.source == "hyperkitty":
        return HyperKittySource(info.url, info.address, fetcher, allow_origins=allow_origins)
    raise UsageError(f"list {info.name}: unknown source type {info.source!r}")


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """How a sync runs (the CLI's options, the scheduler's job), the same for every list.

    `workers`: parser processes (None: ``sync.workers``); `show_progress`: a progress bar per
    list; `stop`: set, no further list or volume is started; `full(list_name)`: whether to
    check every volume (None: always, as `listarchive sync`) or only new, failed and the two
    newest ones (the scheduler's incremental runs); `retry_failed`: volumes that failed are
    fetched and parsed again even though unchanged (`sync --retry-failed`)."""

    workers: int | None = None
    show_progress: bool = False
    stop: threading.Event | None = None
    full: Callable[[str], bool] | None = None
    retry_failed: bool = False

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def full_check(self, list_name: str) -> bool:
        return self.full(list_name) if self.full is not None else True


class SyncOutcome(NamedTuple):
    """What `sync` did: one summary per list, documents indexed, why the index was not
    updated (""), and the compaction decided after it (`compaction`): None when none was
    due, else ``{"at", "status", "detail"}`` with `status` ``done``, ``skipped`` (the file
    is larger than ``store.compact_max_bytes``: `detail` says so) or ``failed``."""

    summaries: list[RunSummary]
    indexed: int
    index_error: str
    compaction: dict[str, Any] | None = None


def sync(
    settings: Settings,
    store: Store,
    names: Sequence[str],
    options: SyncOptions = SyncOptions(),
) -> SyncOutcome:
    """Sync the named lists (all when empty), each under its lock, then catch the search
    index up.  A list that another process is syncing is skipped and said so."""
    from store import runs

    selected = _selected_lists(store, names)
    runs.abandon_dead(store.conn)  # runs a killed or crashed sync left `running`
    fetcher = make_fetcher(settings)
    summaries = []
    during = _IndexDuringSync(settings, store)
    run = _Run(settings, store, options, during)
    try:
        for info in selected:
            if options.stopped():
                break
            origins = list_origins.allowed_origins(store.conn, info.name)
            source = make_source(settings, info, fetcher, allow_origins=origins)
            summaries.append(_sync_locked(run, info, source, options.full_check(info.name)))
    except BaseException:
        during.close()  # its backend, if the rounds opened one
        raise
    finally:
        fetcher.close()
    indexed, error = during.finish()
    return SyncOutcome(summaries, indexed, error, during.compaction)


@dataclass(frozen=True, slots=True)
class _Run:
    """One `sync`'s settings, store, options and the index catch-up its lists call."""

    settings: Settings
    store: Store
    options: SyncOptions
    catch_up: Callable[[], None] | None = None


class _IndexDuringSync:
    """The search index caught up while a sync's later volumes are still parsed
    (`ingest.sync.TAIL_EVERY`) and once more after the last list (`finish`), through one
    backend kept open (a new one starts with a cold page cache: ~1 s more CPU on
    twisted-python).  `count`: documents indexed.  An index found down is not asked again
    during the run, only at the end, as before."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings, self.store = settings, store
        self.backend: SearchBackend | None = None
        self.count = 0
        self.down = False
        self.compaction: dict[str, Any] | None = None
        """The compaction decided after the sync (`SyncOutcome.compaction`)."""

    def __call__(self) -> None:
        if not self.down:
            self._catch_up()

    def _catch_up(self) -> str:
        from listarchive.searching import index_pages
        from search import indexer
        from search.base import SearchError
        from search.factory import open_configured

        try:
            if self.backend is None:
                self.backend = open_configured(self.settings)
            pages = index_pages(self.settings)
            self.count += indexer.catch_up(self.store, self.backend, **pages)
        except SearchError as exc:
            logger.warning("search index not updated: %s", exc)
            self.down = True
            self.close()
            return str(exc)
        return ""

    def finish(self) -> tuple[int, str]:
        """The last catch-up (after the last list): (documents indexed, error or ""); then,
        when the store grew by a quarter, the store and the index compacted."""
        try:
            error = self._catch_up()
            self._compact()
            return self.count, error
        finally:
            self.close()

    def _compact(self) -> None:
        """Not done (logged) when it cannot be: the sync's work is committed already.  A file
        larger than ``store.compact_max_bytes`` is not compacted (`store.compaction`)."""
        import sqlite3

        from search.base import SearchError
        from store import compaction

        try:
            conn = self.store.conn
            if self.store.readonly or not compaction.due(
                conn, self.settings["store.compact_growth"]
            ):
                return
            bound = self.settings["store.compact_max_bytes"]
            skipped = compaction.too_large(self.store.path, bound)
            if skipped:
                logger.warning("%s", skipped)
                compaction.record(conn, "skipped", skipped)
                self.compaction = compaction.last(conn)
                return
            compaction.compact(conn)
            compact = getattr(self.backend, "compact", None)  # the embedded index's file
            index_path = getattr(self.backend, "path", None)
            skipped = compaction.too_large(index_path, bound) if index_path is not None else ""
            if skipped:
                logger.warning("%s", skipped)
            elif compact is not None:
                compact()
            compaction.record(conn, "done", skipped)
            self.compaction = compaction.last(conn)
        except (sqlite3.Error, SearchError) as exc:
            logger.warning("compaction after the sync not done: %s", exc)
            from datetime import UTC, datetime

            at = datetime.now(UTC).isoformat(timespec="seconds")
            self.compaction = {"at": at, "status": "failed", "detail": str(exc)}

    def close(self) -> None:
        if self.backend is not None:
            backend, self.backend = self.backend, None
            backend.close()


def _selected_lists(store: Store, names: Sequence[str]) -> list[ListInfo]:
    """The named lists, each read alone (a scheduled job's cost does not grow with the number
    of lists), or every list when none is named."""
    found = {}
    for name in names:
        try:
            found[name] = store.get_list(name)
        except UnknownListError:
            pass
    unknown = [n for n in names if n not in found]
    if unknown:
        raise UsageError(f"unknown list(s): {', '.join(unknown)}")
    selected = list(found.values()) if names else store.lists()
    if not selected:
        raise UsageError("no lists configured: add one with `listarchive lists add`")
    return selected


def _sync_locked(run: _Run, info: ListInfo, source: Source, full: bool) -> RunSummary:
    from store import locks

    store = run.store
    lock, owner = f"sync:{info.name}", locks.default_owner()
    if not locks.acquire(store.conn, lock, owner):
        holder = locks.holder(store.conn, lock) or "another process"
        logger.info("sync %s: skipped, %s is syncing it", info.name, holder)
        from ingest.sync import RunSummary

        return RunSummary(info.name, skipped=f"{holder} is syncing this list")
    try:
        return _sync_one(run, info, source, full, (lock, owner))
    finally:
        try:
            locks.release(store.conn, lock, owner)
        except sqlite3.Error as exc:  # a full disk: the lock expires, its owner is gone
            logger.warning("could not release %s: %s", lock, exc)


def _sync_one(
    run: _Run, info: ListInfo, source: Source, full: bool, held: tuple[str, str]
) -> RunSummary:
    """One list's sync under the lock `held` (name, owner), renewed at each volume."""
    from ingest.sync import sync_list
    from store import locks

    settings, store, options = run.settings, run.store, run.options
    lock, owner = held
    worker_count = options.workers or settings["sync.workers"]
    bar: Any = None

    def start(total: int) -> None:
        nonlocal bar
        if options.show_progress:
            bar = click.progressbar(length=total, label=f"{info.name}", file=sys.stdout)
            bar.__enter__()

    def step(_name: str, _status: str) -> None:
        locks.renew(store.conn, lock, owner)  # still alive: keep the list
        if bar is not None:
            bar.update(1)

    try:
        return sync_list(
            store,
            info.name,
            source,
            workers=worker_count,
            progress=step,
            on_volumes=start,
            stop=options.stop,
            full=full,
            limits=worker_limits(settings),
            deadline=settings["sync.run_deadline"],
            spool_root=spool_root(settings),
            parse_window=settings["sync.parse_window"],
            retry_failed=options.retry_failed,
            catch_up=run.catch_up,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
