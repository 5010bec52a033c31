"""Application services behind the CLI: wire settings, store, sources and search together."""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from config.settings import ConfigError, Settings, check_origin, check_url
from search import SQLITE_FILENAME
from store import files, list_origins, naming
from store.errors import StoreCorruptError
from store.store import Store, UnknownListError

# What `search` and `lists` never use is imported where it is used (issue 14, CLI start-up:
# tests/cli/test_startup_imports.py): the search backends (`refuse_store_over_index` opens
# one only for a data directory without a store), the ingest pipeline (httpx, flanker; even
# `ingest.archive_urls` only for a list's URL), the sync's locks and run records, the
# store's message records.
if TYPE_CHECKING:
    from ingest.http import HttpFetcher
    from ingest.sources.base import Source
    from ingest.sync import Limits, RunSummary
    from search.base import SearchBackend
    from store.records import ListInfo

logger = logging.getLogger(__name__)


_ADDRESS = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")


class UsageError(Exception):
    """The user asked for something inconsistent; the message says what."""


def open_store(settings: Settings, *, declare: bool = True) -> Store:
    """The store (created when missing, unless the search index holds an earlier store's
    messages: `refuse_store_over_index`), with the settings' lists and communities applied
    (`declare_lists`), unless `declare` is false: for callers that applied them already, such
    as the scheduler's jobs (its process applies them at start-up and when the file changes)."""
    if declare:
        check_declared_names(settings)
    refuse_store_over_index(settings)
    store = Store(settings.store_path)
    if declare:
        try:
            declare_lists(settings, store)
        except BaseException:
            store.close()
            raise
    return store


def declare_lists(settings: Settings, store: Store) -> None:
    """Apply the `[lists.NAME]` and `[communities.NAME]` tables of the settings file to the
    store: one read of the store's lists, and writes only for what differs."""
    if not settings.lists and not settings.communities:
        return
    from ingest.archive_urls import is_private_url

    current = {info.name: info for info in store.lists()}
    for declared in settings.lists:
        existing = current.get(declared.name)
        wanted = (
            declared.source,
            declared.url,
            tuple(declared.paths),
            declared.address,
        )
        if (
            existing is None
            or (existing.source, existing.url, existing.paths, existing.address) != wanted
            # `community` adds a membership; the list's other communities stay
            or (declared.community and declared.community not in existing.communities)
            # a private archive URL makes a list private; only `lists add` makes it public
            or (is_private_url(declared.url) and not existing.private)
        ):
            store.add_list(
                declared.name,
                declared.source,
                url=declared.url,
                paths=declared.paths,
                community=declared.community,
                address=declared.address,
                private=is_private_url(declared.url) or bool(existing and existing.private),
            )
        # the file is authoritative for the lists it declares, their extra origins included
        list_origins.set_allowed_origins(store.conn, declared.name, declared.allow_origins)
    _declare_communities(settings, store)


def verify_store(settings: Settings) -> None:
    """For commands that answer from the search index alone: the store it was built from must
    still be there and sound (StoreError otherwise); a fresh data directory passes."""
    refuse_store_over_index(settings)
    path = settings.store_path
    if files.holds_data(path) or files.data_beside(path):
        Store(path, readonly=True).close()


def refuse_store_over_index(settings: Settings) -> None:
    """StoreCorruptError when store.db is missing or empty while the search index holds the
    messages of an earlier store: a new, empty store would be taken for it, and the next sync
    would rebuild the index from nothing.  The store is only created when no index does."""
    path = settings.store_path
    if files.holds_data(path):
        return
    sqlite_index = settings.data_dir / SQLITE_FILENAME
    if settings["search.backend"] == "sqlite" and not files.holds_data(sqlite_index):
        return
    from search.base import SearchError
    from search.factory import open_configured

    try:
        backend = open_configured(settings)
        try:
            store_id, count = backend.get_store_id(), backend.count()
        finally:
            backend.close()
    except SearchError as exc:  # an index we cannot read proves nothing; sync reports it
        logger.warning("could not look for an earlier store in the search index: %s", exc)
        return
    if not store_id and not count:
        return
    where = sqlite_index if backend.name == "sqlite" else f"{settings['search.index']}*"
    state = "empty (0 bytes)" if path.exists() else "missing"
    raise StoreCorruptError(
        path,
        f"the store is {state} but the search index ({where}) holds {count} messages of an "
        "earlier store",
        "restore store.db from a backup (README, 'Backups'); to start again with a new, empty "
        f"store, delete that index first ({where})",
    )


def check_declared_names(settings: Settings) -> None:
    """ConfigError when a `[lists.NAME]` or `[communities.NAME]` table of the settings file
    (or a list's `community`) breaks the name rule (`store.naming`)."""
    origin = settings.config_file or "the settings"
    declared = [("lists", lc.name, lc.name, "list") for lc in settings.lists]
    declared += [("lists", lc.name, lc.community, "community") for lc in settings.lists]
    declared += [("communities", c.name, c.name, "community") for c in settings.communities]
    for table, key, name, what in declared:
        problem = naming.name_problem(name, what) if name or what == "list" else None
        if problem is not None:
            raise ConfigError(f"{table}.{key} in {origin}: {problem}")


def _declare_communities(settings: Settings, store: Store) -> None:
    """Apply the `[communities.NAME]` tables of the settings file to the store."""
    from store import communities

    current = {c.name: c for c in communities.all_communities(store.conn)}
    for declared in settings.communities:
        # its `lists`, and the `[lists.X]` that name it as their `community`; a list may be
        # in several communities, so declaring this one never touches another
        joined = [lc.name for lc in settings.lists if lc.community == declared.name]
        members = list(dict.fromkeys([*declared.lists, *joined]))
        try:
            old, new = communities.resolve_old_new(
                declared.name, members, declared.old, declared.new
            )
            wanted = communities.Community(
                declared.name,
                tuple(sorted(members)),
                declared.cutover or None,
                declared.closed or None,
                old,
                new,
            )
            if current.get(declared.name) != wanted:
                communities.upsert(
                    store.conn,
                    declared.name,
                    members,
                    declared.cutover,
                    declared.closed,
                    old_list=old,
                    new_list=new,
                )
        except communities.CommunityError as exc:
            raise ConfigError(f"communities.{declared.name}: {exc}") from exc


def add_list(
    store: Store,
    name: str,
    pipermail_url: str | None,
    paths: Sequence[str],
    community: str,
    *,
    hyperkitty_url: str | None = None,
    address: str | None = None,
    private: bool = False,
    allow_origins: Sequence[str] = (),
    maildir_paths: Sequence[str] = (),
) -> ListInfo:
    """Add or re-point a list; a `/mailman/private/` URL (or `private`) makes it private.
    `maildir_paths`: a Maildir source (instead of `paths`, mbox files).

    `allow_origins` (replacing those declared before) are the other origins its archive may
    be fetched from, e.g. the new host an old one redirects to; its URL's own is implicit."""
    origins = _check_origins(allow_origins, bool(pipermail_url or hyperkitty_url))
    if maildir_paths and (paths or pipermail_url or hyperkitty_url):
        raise UsageError(_ONE_SOURCE)
    kind, paths = ("maildir", maildir_paths) if maildir_paths else ("mbox", paths)
    info = _add_list(
        store, name, pipermail_url, paths, community, hyperkitty_url, address, private, kind
    )
    list_origins.set_allowed_origins(store.conn, info.name, origins)
    return info


def _check_origins(allow_origins: Sequence[str], over_http: bool) -> list[str]:
    if allow_origins and not over_http:
        raise UsageError("--allow-origin is only for --pipermail and --hyperkitty lists")
    try:
        return [check_origin(origin, "--allow-origin") for origin in allow_origins]
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def _add_list(
    store: Store,
    name: str,
    pipermail_url: str | None,
    paths: Sequence[str],
    community: str,
    hyperkitty_url: str | None,
    address: str | None,
    private: bool,
    kind: str = "mbox",
) -> ListInfo:
    for value, what in ((name, "list"), (community, "community")):
        problem = naming.name_problem(value, what) if value or what == "list" else None
        if problem is not None:
            raise UsageError(problem)
    given = [bool(pipermail_url), bool(paths), bool(hyperkitty_url)]
    if sum(given) != 1:
        raise UsageError(_ONE_SOURCE)
    if address and not _ADDRESS.match(address):
        raise UsageError("--address must be the list's address, LIST@DOMAIN")
    if hyperkitty_url:
        if not address or not _ADDRESS.match(address):
            raise UsageError("--hyperkitty needs --address LIST@DOMAIN (the list's address)")
        try:
            check_url(hyperkitty_url, "--hyperkitty")
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        return store.add_list(
            name, "hyperkitty", url=hyperkitty_url, address=address, community=community
        )
    if pipermail_url:
        try:
            check_url(pipermail_url, "--pipermail")
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
        from ingest.archive_urls import is_private_url

        private = private or is_private_url(pipermail_url)
        return store.add_list(
            name,
            "pipermail",
            url=pipermail_url,
            community=community,
            address=address or "",
            private=private,
        )
    resolved = []
    for path in paths:
        from ingest.sources.maildir import local_path_problem

        problem = local_path_problem(Path(path), kind)
        if problem is not None:
            raise UsageError(problem)
        resolved.append(str(Path(path).resolve()))
    return store.add_list(
        name, kind, paths=resolved, community=community, address=address or "", private=private
    )


_ONE_SOURCE = (
    "give exactly one source: --pipermail URL, --mbox PATH..., --maildir DIR or --hyperkitty URL"
)


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


def sync(
    settings: Settings,
    store: Store,
    names: Sequence[str],
    *,
    workers: int | None = None,
    show_progress: bool = False,
    stop: threading.Event | None = None,
    full: Callable[[str], bool] | None = None,
    retry_failed: bool = False,
) -> tuple[list[RunSummary], int, str]:
    """Sync the named lists (all when empty), each under its lock, then catch the search
    index up.  A list that another process is syncing is skipped and said so.

    `full(list_name)` says whether to check every volume (default) or only new, failed and
    the two newest ones (the scheduler's incremental runs).  `retry_failed`: volumes that
    failed are fetched and parsed again even though unchanged (`sync --retry-failed`)."""
    from store import runs

    selected = _selected_lists(store, names)
    runs.abandon_dead(store.conn)  # runs a killed or crashed sync left `running`
    fetcher = make_fetcher(settings)
    summaries = []
    during = _IndexDuringSync(settings, store)
    try:
        for info in selected:
            if stop is not None and stop.is_set():
                break
            origins = list_origins.allowed_origins(store.conn, info.name)
            source = make_source(settings, info, fetcher, allow_origins=origins)
            summaries.append(
                _sync_locked(
                    settings,
                    store,
                    info,
                    source,
                    workers,
                    show_progress,
                    stop,
                    full(info.name) if full is not None else True,
                    retry_failed,
                    during,
                )
            )
    except BaseException:
        during.close()  # its backend, if the rounds opened one
        raise
    finally:
        fetcher.close()
    indexed, error = during.finish()
    return summaries, indexed, error


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
        """The last catch-up (after the last list): (documents indexed, error or "")."""
        try:
            error = self._catch_up()
            return self.count, error
        finally:
            self.close()

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


def _sync_locked(
    settings: Settings,
    store: Store,
    info: ListInfo,
    source: Source,
    workers: int | None,
    show_progress: bool,
    stop: threading.Event | None,
    full: bool,
    retry_failed: bool = False,
    catch_up: Callable[[], None] | None = None,
) -> RunSummary:
    from store import locks

    lock, owner = f"sync:{info.name}", locks.default_owner()
    if not locks.acquire(store.conn, lock, owner):
        holder = locks.holder(store.conn, lock) or "another process"
        logger.info("sync %s: skipped, %s is syncing it", info.name, holder)
        from ingest.sync import RunSummary

        return RunSummary(info.name, skipped=f"{holder} is syncing this list")
    try:
        return _sync_one(
            settings,
            store,
            info,
            source,
            workers,
            show_progress,
            stop,
            lock,
            owner,
            full,
            retry_failed,
            catch_up,
        )
    finally:
        try:
            locks.release(store.conn, lock, owner)
        except sqlite3.Error as exc:  # a full disk: the lock expires, its owner is gone
            logger.warning("could not release %s: %s", lock, exc)


def _sync_one(
    settings: Settings,
    store: Store,
    info: ListInfo,
    source: Source,
    workers: int | None,
    show_progress: bool,
    stop: threading.Event | None,
    lock: str,
    owner: str,
    full: bool,
    retry_failed: bool,
    catch_up: Callable[[], None] | None = None,
) -> RunSummary:
    from ingest.sync import sync_list
    from store import locks

    worker_count = workers or settings["sync.workers"]
    bar: Any = None

    def start(total: int) -> None:
        nonlocal bar
        if show_progress:
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
            stop=stop,
            full=full,
            limits=worker_limits(settings),
            deadline=settings["sync.run_deadline"],
            spool_root=spool_root(settings),
            parse_window=settings["sync.parse_window"],
            retry_failed=retry_failed,
            catch_up=catch_up,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
