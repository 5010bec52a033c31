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

from search.base import SearchBackend, SearchQueryError, SearchResult, Sort
from search.persons import StorePersons
from search.query import QueryLimits, parse_query
from store.visibility import Visibility

logger = logging.getLogger(__name__)


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
        raise SearchQueryError(f"unknown list {name!r}")


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
        )
