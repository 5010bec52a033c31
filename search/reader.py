"""Searches as one reader may run them: its messages, its lists and its persons only.

For a reader, a list it may not see does not exist and neither does a person none of whose
posts it may read: a ``list:`` filter (or a ``lists`` restriction) naming a list that is
unknown *or hidden* is refused with the same `SearchQueryError` (``unknown list 'NAME'``),
and ``person:`` keys resolve through the reader's posts (`search.persons.StorePersons`), so a
search never confirms that a private list or a private poster exists.  Unknown list names are
refused for everyone (logged in or not, web or CLI), as ``stats`` and ``completeness`` do,
instead of answering "0 messages".
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterable

from search.base import (
    SearchBackend,
    SearchQueryError,
    SearchResult,
    SearchUnavailableError,
    Sort,
)
from search.persons import StorePersons
from search.query import DEFAULT_LIMITS, QueryLimits, parse_query
from store.visibility import Visibility

logger = logging.getLogger(__name__)


class UnknownListError(SearchQueryError):
    """A search names a list that does not exist (or that its reader may not see)."""


def visible_lists(conn: sqlite3.Connection, viewer: Visibility) -> frozenset[str]:
    """The (lower-cased) names of the lists `viewer` may see; searches match names so."""
    rows = conn.execute(f"SELECT l.name FROM lists l WHERE {viewer.lists('l')}")
    return frozenset(str(row[0]).lower() for row in rows)


def unknown_list(
    query: str, lists: Iterable[str], known: Collection[str], limits: QueryLimits
) -> str | None:
    """The first list name of the search (its ``list:`` filters, then `lists`) that is not in
    `known` (lower-case names), or None; a query that does not parse raises as in a search."""
    for name in (*parse_query(query, limits).lists, *lists):
        if name and name.lower() not in known:
            return name
    return None


def refuse_unknown_lists(
    query: str, lists: Iterable[str], known: Collection[str], limits: QueryLimits
) -> None:
    """Raise ``unknown list 'NAME'`` for a list of the search that is not in `known`."""
    name = unknown_list(query, lists, known, limits)
    if name is not None:
        raise UnknownListError(f"unknown list {name!r}")


def named_lists(query: str, lists: Iterable[str]) -> tuple[str, ...]:
    """The list names a search asks for (``list:`` filters, then `lists`); none for a query
    that does not parse (the search refuses it with its reason)."""
    try:
        parsed = parse_query(query, DEFAULT_LIMITS)
    except SearchQueryError:
        return ()
    return tuple(name for name in (*parsed.lists, *lists) if name)


def check_operator_lists(
    conn: sqlite3.Connection, query: str, lists: Iterable[str], *, include_private: bool
) -> None:
    """The CLI's check (its reader is the operator, who may know every name): an unknown list
    raises `UnknownListError`; a private list without `include_private` too, with the hint.
    A query that does not parse is left for the search to refuse with its reason."""
    rows = conn.execute("SELECT name, private FROM lists").fetchall()
    known = {str(name).lower(): bool(private) for name, private in rows}
    for name in named_lists(query, lists):
        private = known.get(name.lower())
        if private is None:
            raise UnknownListError(f"unknown list {name!r}")
        if private and not include_private:
            raise UnknownListError(
                f"list {name!r} is private: add --include-private to search its messages"
            )


def index_problem(conn: sqlite3.Connection, backend: SearchBackend, viewer: Visibility) -> str:
    """Why `backend` cannot answer for the store `conn` (as `/healthz` says it), or "": an
    index that holds nothing while the store has messages this reader may read (a lost or
    emptied index file: every search would answer "0 messages" without a word), or an index
    built from another store."""
    indexed_from = backend.get_store_id()
    row = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
    if indexed_from and row is not None and indexed_from != str(row[0]):
        return "the search index was built from another store: run `listarchive reindex`"
    if not indexed_from:
        visible = conn.execute(f"SELECT 1 FROM messages m WHERE {viewer.messages('m')} LIMIT 1")
        if visible.fetchone() is not None:
            return "the search index is empty: run `listarchive reindex`"
    return ""


_REMOVED_SINCE = (
    "SELECT rm.message_key FROM removal_marks rm JOIN removals r ON r.id = rm.removal "
    "JOIN messages m ON m.key = rm.message_key WHERE r.undone_at IS NULL AND m.seq > ?"
)


def removed_in_index(
    conn: sqlite3.Connection, backend: SearchBackend, viewer: Visibility
) -> tuple[str, ...]:
    """The keys of the removed messages whose documents `backend` may still hold (issue 14,
    task CL3): removed now and changed since the index's checkpoint, i.e. a removal the
    index has not been caught up with (the web UI's `indexer.refresh` failed or found the
    index out of step and left it to the next sync); the catch-up that moves the checkpoint
    past them deletes their documents.  For a reader without private access, also the
    messages private now and changed since the checkpoint: a list made private
    (`listarchive lists add --private`) gives its messages a new change sequence, and the
    index marks them private only at its next catch-up.  Nothing is read while nothing is
    removed and the reader sees every list (`viewer.removals`, `viewer.hidden_lists`, known
    already), the usual case; else the checkpoint and one query over the messages changed
    since it (the removal marks for a reader with private access)."""
    if not viewer.removals and (viewer.include_private or not viewer.hidden_lists):
        return ()
    checkpoint = backend.get_checkpoint()
    if viewer.include_private:
        rows = conn.execute(_REMOVED_SINCE, (checkpoint,)).fetchall()
    else:  # removed, or private now: a list made private since (task RV)
        sql = f"SELECT m.key FROM messages m WHERE m.seq > ? AND NOT ({viewer.messages('m')})"
        rows = conn.execute(sql, (checkpoint,)).fetchall()
    return tuple(sorted({str(row[0]) for row in rows}))


class ReaderSearch:
    """`backend` as the reader `viewer` may use it, over the store connection `conn`."""

    def __init__(self, backend: SearchBackend, conn: sqlite3.Connection, viewer: Visibility):
        self.backend, self.conn, self.viewer = backend, conn, viewer
        self._lists: frozenset[str] | None = None

    def check(self, query: str, lists: Iterable[str] = ()) -> None:
        """Refuse a search naming a list this reader may not see (or that does not exist)."""
        if self._lists is None:
            self._lists = visible_lists(self.conn, self.viewer)
        refuse_unknown_lists(query, lists, self._lists, self.backend.limits)

    def search(
        self,
        query: str,
        *,
        lists: tuple[str, ...] = (),
        sort: Sort = "relevance",
        limit: int = 20,
        offset: int = 0,
        facets: bool = False,
        cursor: str | None = None,
    ) -> SearchResult:
        self.check(query, lists)
        problem = index_problem(self.conn, self.backend, self.viewer)
        if problem:
            raise SearchUnavailableError(problem)
        hidden = removed_in_index(self.conn, self.backend, self.viewer)
        return self.backend.search(
            query,
            lists=lists,
            sort=sort,
            limit=limit,
            offset=offset,
            facets=facets,
            cursor=cursor,
            include_private=self.viewer.include_private,
            persons=StorePersons(self.conn, self.viewer),
            hidden=hidden,
        )

    def person_names(self, keys: Iterable[str]) -> dict[str, str]:
        """The display name of each of these person keys this reader may know (as the sender
        facet names them); a key unknown to it is left out."""
        persons = StorePersons(self.conn, self.viewer)
        out: dict[str, str] = {}
        for key in keys:
            identities = persons.identities_of(key)
            refs = persons.persons_of(identities) if identities else {}
            for ref in refs.values():
                out[key] = ref.name
                break
        return out
