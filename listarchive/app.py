"""Application services behind the CLI: open the store, apply the settings' lists and
communities to it, add a list.  A sync's fetcher, sources and run: `listarchive.syncing`."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import ConfigError, Settings, check_origin, check_url
from search import SQLITE_FILENAME
from store import files, list_origins, naming
from store.errors import StoreCorruptError
from store.store import Store

# What `search` and `lists` never use is imported where it is used (issue 14, CLI start-up:
# tests/cli/test_startup_imports.py): the search backends (`refuse_store_over_index` opens
# one only for a data directory without a store), the ingest pipeline (httpx, flanker; even
# `ingest.archive_urls` only for a list's URL), the sync's locks and run records, the
# store's message records.
# The sync's fetcher, sources and orchestration are in `listarchive.syncing`.
if TYPE_CHECKING:
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
