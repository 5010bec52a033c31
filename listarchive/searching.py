"""Search services behind the CLI: open the configured backend, keep it caught up, query."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any, TypedDict

from config.settings import Settings
from search.base import (
    PersonRef,
    SearchBackend,
    SearchError,
    SearchResult,
    SearchUnavailableError,
)
from search.factory import SQLITE_FILENAME, open_configured
from search.persons import StorePersons
from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from search.reader import index_problem, removed_in_index
from store import files, visibility
from store.store import Store, StoreError

logger = logging.getLogger(__name__)


class IndexPages(TypedDict):
    """How index catch-up pages its reads: `batch` messages, `page_bytes` raw bytes at most."""

    batch: int
    page_bytes: int


def index_pages(settings: Settings) -> IndexPages:
    return {"batch": settings["sync.index_batch"], "page_bytes": settings["sync.index_page_bytes"]}


def update_index(settings: Settings, store: Store) -> tuple[int, str]:
    """Catch the search index up with the store; a down index is reported, not raised."""
    from search import indexer  # the store's message reader: not for a search (issue 14)

    try:
        backend = open_configured(settings)
        try:
            count = indexer.catch_up(store, backend, **index_pages(settings))
            return count, ""
        finally:
            backend.close()
    except SearchError as exc:
        logger.warning("search index not updated: %s", exc)
        return 0, str(exc)


def reindex(settings: Settings, store: Store) -> int:
    from search import indexer

    backend = open_configured(settings)
    try:
        return indexer.rebuild(store, backend, **index_pages(settings))
    finally:
        backend.close()


class StorePersonsOnDemand:
    """`PersonResolver` that opens the store (read-only) only when a search needs persons
    (a ``person:`` filter), so plain searches work without one."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.store_path
        self._store: Store | None = None

    def _persons(self) -> StorePersons:
        if self._store is None:
            try:
                self._store = Store(self.path, readonly=True)
            except StoreError as exc:
                raise SearchUnavailableError(f"person: filters need the store: {exc}") from exc
        return StorePersons(self._store.conn)

    def identities_of(self, key: str) -> frozenset[int] | None:
        return self._persons().identities_of(key)

    def persons_of(self, identities: Collection[int]) -> dict[int, PersonRef]:
        return self._persons().persons_of(identities)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


class IndexUnavailable(SearchUnavailableError):
    """The search index cannot answer for the store: lost (its file deleted or never built),
    emptied, or built from another store, while the store holds messages the search may
    read.  Every search would answer "0 messages" without a word; the CLI exits 3 instead,
    with the remedy (`listarchive reindex`), as the web answers 503."""


def index_unavailable(
    settings: Settings, backend: SearchBackend | None, *, include_private: bool
) -> str:
    """Why the index (`backend`, or None for an SQLite index file that does not exist) cannot
    answer for the store, or "" (no store yet, or nothing in it the search may read)."""
    return _index_state(settings, backend, include_private=include_private)[0]


def _index_state(
    settings: Settings, backend: SearchBackend | None, *, include_private: bool
) -> tuple[str, tuple[str, ...]]:
    """`index_unavailable`, and the removed messages `backend` may still hold, which the
    search leaves out (`search.reader.removed_in_index`), read on the same open store."""
    if not files.holds_data(settings.store_path):
        return "", ()
    store = Store(settings.store_path, readonly=True)
    try:
        viewer = visibility.for_reader(store.conn, include_private=include_private)
        if backend is not None:
            problem = index_problem(store.conn, backend, viewer)
            return problem, () if problem else removed_in_index(store.conn, backend, viewer)
        sql = f"SELECT 1 FROM messages m WHERE {viewer.messages('m')} LIMIT 1"
        if store.conn.execute(sql).fetchone() is None:
            return "", ()
        return "there is no search index: run `listarchive reindex`", ()
    finally:
        store.close()


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
    """Query the configured index; `IndexUnavailable` when it cannot answer for the store
    (an SQLite index file that is missing is not created by a search)."""
    sqlite_file = settings.data_dir / SQLITE_FILENAME
    if settings["search.backend"] == "sqlite" and not sqlite_file.exists():
        problem = index_unavailable(settings, None, include_private=include_private)
        if problem:
            raise IndexUnavailable(problem)
    backend = open_configured(settings)
    persons = StorePersonsOnDemand(settings)
    try:
        problem, hidden = _index_state(settings, backend, include_private=include_private)
        if problem:
            raise IndexUnavailable(problem)
        return backend.search(
            query,
            lists=tuple(lists),
            sort=sort,  # type: ignore[arg-type]
            limit=limit,
            offset=offset,
            include_private=include_private,
            persons=persons,
            hidden=hidden,
        )
    finally:
        persons.close()
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
