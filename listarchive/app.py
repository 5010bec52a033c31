"""Application services behind the CLI: wire settings, store, sources and search together."""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from config.secrets import archive_credentials
from config.settings import ConfigError, Settings, check_url
from ingest.completeness import PeriodCount, compare, held_counts, pipermail_counts
from ingest.http import HttpFetcher
from ingest.sources.base import Source
from ingest.sources.hyperkitty import HyperKittySource
from ingest.sources.mailman_auth import is_private_url
from ingest.sources.mbox import MboxSource
from ingest.sources.pipermail import PipermailSource
from ingest.sync import RunSummary, sync_list
from search import indexer
from search.base import SearchBackend, SearchError, SearchResult
from search.factory import open_backend
from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from store import communities, locks
from store.records import ListInfo
from store.store import Store

logger = logging.getLogger(__name__)


_ADDRESS = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")


class UsageError(Exception):
    """The user asked for something inconsistent; the message says what."""


def open_store(settings: Settings) -> Store:
    store = Store(settings.store_path)
    for declared in settings.lists:
        existing = {info.name: info for info in store.lists()}.get(declared.name)
        wanted = (
            declared.source,
            declared.url,
            tuple(declared.paths),
            declared.community,
            declared.address,
        )
        if (
            existing is None
            or (
                existing.source,
                existing.url,
                existing.paths,
                existing.community,
                existing.address,
            )
            != wanted
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
    _declare_communities(settings, store)
    return store


def _declare_communities(settings: Settings, store: Store) -> None:
    """Apply the `[communities.NAME]` tables of the settings file to the store."""
    current = {c.name: c for c in communities.all_communities(store.conn)}
    for declared in settings.communities:
        wanted = communities.Community(
            declared.name,
            tuple(sorted(declared.lists)),
            declared.cutover or None,
            declared.closed or None,
        )
        if current.get(declared.name) != wanted:
            try:
                communities.upsert(
                    store.conn, declared.name, declared.lists, declared.cutover, declared.closed
                )
            except communities.CommunityError as exc:
                raise ConfigError(f"communities.{declared.name}: {exc}") from exc


def open_search(settings: Settings) -> SearchBackend:
    """The configured backend; Elasticsearch credentials come from the environment only
    (`LISTARCHIVE_SEARCH_USERNAME`, `LISTARCHIVE_SEARCH_PASSWORD`), never from a file."""
    return open_backend(
        settings["search.backend"],
        settings.data_dir,
        settings["search.url"],
        index_prefix=settings["search.index"],
        username=os.environ.get("LISTARCHIVE_SEARCH_USERNAME", ""),
        password=os.environ.get("LISTARCHIVE_SEARCH_PASSWORD", ""),
    )


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
) -> ListInfo:
    """Add or re-point a list; a `/mailman/private/` URL (or `private`) makes it private."""
    given = [bool(pipermail_url), bool(paths), bool(hyperkitty_url)]
    if sum(given) != 1:
        raise UsageError(
            "give exactly one source: --pipermail URL, --mbox PATH... or --hyperkitty URL"
        )
    if address and not hyperkitty_url:
        raise UsageError("--address is only for --hyperkitty lists")
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
        private = private or is_private_url(pipermail_url)
        return store.add_list(
            name, "pipermail", url=pipermail_url, community=community, private=private
        )
    resolved = []
    for path in paths:
        if not Path(path).exists():
            raise UsageError(f"{path}: no such file or directory")
        resolved.append(str(Path(path).resolve()))
    return store.add_list(name, "mbox", paths=resolved, community=community, private=private)


def make_source(settings: Settings, info: ListInfo, fetcher: HttpFetcher) -> Source:
    if info.source == "pipermail":
        # private archives' logins are looked up only when needed, never from the config
        return PipermailSource(
            info.url,
            fetcher,
            list_name=info.name,
            credentials=lambda: archive_credentials(info.name),
        )
    if info.source == "mbox":
        return MboxSource(info.paths)
    if info.source == "hyperkitty":
        return HyperKittySource(info.url, info.address, fetcher)
    raise UsageError(f"list {info.name}: unknown source type {info.source!r}")


def sync(
    settings: Settings,
    store: Store,
    names: Sequence[str],
    *,
    workers: int | None = None,
    show_progress: bool = False,
    stop: threading.Event | None = None,
) -> tuple[list[RunSummary], int, str]:
    """Sync the named lists (all when empty), each under its lock, then catch the search
    index up.  A list that another process is syncing is skipped and said so."""
    known = {info.name: info for info in store.lists()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown list(s): {', '.join(unknown)}")
    if not known:
        raise UsageError("no lists configured: add one with `listarchive lists add`")
    selected = [known[n] for n in names] if names else list(known.values())
    fetcher = HttpFetcher(
        timeout=settings["sync.timeout"],
        retries=settings["sync.retries"],
        user_agent=settings["sync.user_agent"],
    )
    summaries = []
    try:
        for info in selected:
            if stop is not None and stop.is_set():
                break
            source = make_source(settings, info, fetcher)
            summaries.append(
                _sync_locked(settings, store, info, source, workers, show_progress, stop)
            )
    finally:
        fetcher.close()
    indexed, error = update_index(settings, store)
    return summaries, indexed, error


def _sync_locked(
    settings: Settings,
    store: Store,
    info: ListInfo,
    source: Source,
    workers: int | None,
    show_progress: bool,
    stop: threading.Event | None,
) -> RunSummary:
    lock, owner = f"sync:{info.name}", locks.default_owner()
    if not locks.acquire(store.conn, lock, owner):
        holder = locks.holder(store.conn, lock) or "another process"
        logger.info("sync %s: skipped, %s is syncing it", info.name, holder)
        return RunSummary(info.name, skipped=f"{holder} is syncing this list")
    try:
        return _sync_one(settings, store, info, source, workers, show_progress, stop, lock, owner)
    finally:
        locks.release(store.conn, lock, owner)


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
) -> RunSummary:
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
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def update_index(settings: Settings, store: Store) -> tuple[int, str]:
    """Catch the search index up with the store; a down index is reported, not raised."""
    try:
        backend = open_search(settings)
        try:
            return indexer.catch_up(store, backend, batch=settings["sync.index_batch"]), ""
        finally:
            backend.close()
    except SearchError as exc:
        logger.warning("search index not updated: %s", exc)
        return 0, str(exc)


def reindex(settings: Settings, store: Store) -> int:
    backend = open_search(settings)
    try:
        return indexer.rebuild(store, backend, batch=settings["sync.index_batch"])
    finally:
        backend.close()


def search(
    settings: Settings,
    query: str,
    lists: Sequence[str],
    *,
    sort: str = "relevance",
    limit: int = 20,
    offset: int = 0,
    include_private: bool = False,
) -> SearchResult:
    backend = open_search(settings)
    try:
        return backend.search(
            query,
            lists=tuple(lists),
            sort=sort,  # type: ignore[arg-type]
            limit=limit,
            offset=offset,
            include_private=include_private,
        )
    finally:
        backend.close()


def render_snippet(snippet: str, *, bold: bool = False) -> str:
    if not bold:
        return snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
    return snippet.replace(HIGHLIGHT_START, "\x1b[1m").replace(HIGHLIGHT_END, "\x1b[0m")


def search_payload(result: SearchResult, lists: Sequence[str]) -> dict[str, Any]:
    """The `search --json` shape: {"total", "hits": [{"id", "message_id", "list", ...}]}."""
    hits = []
    for hit in result.hits:
        chosen = next((name for name in lists if name in hit.lists), None)
        sender = f"{hit.from_name} <{hit.from_addr}>" if hit.from_name else hit.from_addr
        hits.append(
            {
                "id": hit.key,
                "message_id": hit.message_id,
                "list": chosen or (hit.lists[0] if hit.lists else None),
                "lists": list(hit.lists),
                "subject": hit.subject,
                "from": sender,
                "from_name": hit.from_name,
                "from_addr": hit.from_addr,
                "date": hit.date.isoformat() if hit.date else None,
                "thread_id": hit.thread_id,
                "snippet": render_snippet(hit.snippet),
            }
        )
    return {"total": result.total, "hits": hits}


def format_summary(s: RunSummary) -> str:
    lines = [
        f"{s.list_name}: volumes {s.volumes_fetched} fetched, {s.volumes_unchanged} unchanged, "
        f"{s.volumes_failed} failed; {s.new_messages} new messages, {s.duplicates} duplicates, "
        f"{s.quarantined} quarantined"
    ]
    if s.skipped:
        return f"{s.list_name}: skipped: {s.skipped}"
    if s.interrupted:
        lines.append("  interrupted: the remaining volumes are synced next time")
    if s.error:
        lines.append(f"  FAILED: {s.error}")
    for failure in s.failures:
        lines.append(f"  volume {failure.volume} failed: {failure.error}")
    return "\n".join(lines)


def quarantine_rows(store: Store) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT l.name, q.origin, q.position, q.reason, q.raw_sha256, q.created_at "
        "FROM quarantine q JOIN lists l ON l.id = q.list ORDER BY q.id"
    ).fetchall()
    return [
        {
            "list": r[0],
            "origin": r[1],
            "position": r[2],
            "reason": r[3],
            "sha256": r[4],
            "created_at": r[5],
        }
        for r in rows
    ]


def completeness(settings: Settings, store: Store, name: str) -> list[PeriodCount]:
    """Compare, per period, what the archive shows with what the store holds for a list."""
    info = store.get_list(name)
    held = held_counts(store.conn, info.id)
    fetcher = HttpFetcher(
        timeout=settings["sync.timeout"],
        retries=settings["sync.retries"],
        user_agent=settings["sync.user_agent"],
    )
    try:
        archive: dict[str, int | None]
        if info.source == "pipermail":
            archive = pipermail_counts(info.url, sorted(held), fetcher)
        elif info.source == "hyperkitty":
            source = make_source(settings, info, fetcher)
            archive = {v.name: getattr(v, "expected", None) for v in source.volumes()}
        else:
            archive = {}
    finally:
        fetcher.close()
    return compare(held, archive)
