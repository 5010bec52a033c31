"""The search interface: one protocol, two backends (SQLite FTS5 embedded, Elasticsearch).

Backends index `IndexDoc`s built from the store and answer `SearchRequest`s parsed by
`search.query.parse_query`.  The web UI and CLI catch only `SearchError` subclasses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from search.frozen import Frozen

if TYPE_CHECKING:
    from search.index_doc import IndexDoc as IndexDoc
    from search.query import QueryLimits

Sort = Literal["relevance", "date", "date_asc"]


def __getattr__(name: str) -> Any:
    """`search.base.IndexDoc` is `search.index_doc.IndexDoc`, imported when first asked for:
    a search never makes one, and the dataclass costs ~1 ms of CPU to create (issue 14)."""
    if name == "IndexDoc":
        from search.index_doc import IndexDoc

        globals()["IndexDoc"] = IndexDoc  # asked once
        return IndexDoc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Hit(Frozen):  # a frozen record, not a dataclass (search.frozen; issue 14)
    __slots__ = __match_args__ = (
        "key",
        "message_id",
        "lists",
        "subject",
        "from_name",
        "from_addr",
        "date",
        "thread_id",
        "snippet",
        "score",
    )
    key: str
    message_id: str
    lists: tuple[str, ...]
    subject: str
    from_name: str
    from_addr: str
    date: datetime | None
    thread_id: str
    snippet: str
    score: float

    def __init__(
        self,
        key: str,
        message_id: str,
        lists: tuple[str, ...],
        subject: str,
        from_name: str,
        from_addr: str,
        date: datetime | None,
        thread_id: str,
        snippet: str,
        score: float = 0.0,
    ) -> None:
        for name, value in (
            ("key", key),
            ("message_id", message_id),
            ("lists", lists),
            ("subject", subject),
            ("from_name", from_name),
            ("from_addr", from_addr),
            ("date", date),
            ("thread_id", thread_id),
            ("snippet", snippet),
            ("score", score),
        ):
            object.__setattr__(self, name, value)


FACETS = ("list", "year", "month", "sender")
"""Facet names every backend computes when asked: list name, year (UTC), month (UTC,
``YYYY-MM``: the date histogram of the matches), and sender person (key;
`SearchResult.person_names` names them).  Never a sender address: facets are shown to
anonymous visitors.  The sender facet needs a `PersonResolver` (without one it is left out)."""
FACET_SIZE = 10
SENDER_BUCKETS = 10_000
"""Sender identities a backend counts per search before summing them into persons.  SQLite
counts them all (exact); Elasticsearch asks for this many terms buckets: on one shard (see the
mapping) their counts are exact, and the top persons are exact unless the match set has more
than this many distinct sender identities (then a person whose identities all rank below the
last bucket could be missing: their count is at most identities x the last bucket's count)."""


class PersonRef(Frozen):  # a frozen record, not a dataclass (search.frozen; issue 14)
    """A person as facets show them: the stable key and the display name."""

    __slots__ = __match_args__ = ("key", "name")
    key: str
    name: str

    def __init__(self, key: str, name: str) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "name", name)


class PersonResolver(Protocol):
    """The store's persons, as searches need them (`search.persons.StorePersons`)."""

    def identities_of(self, key: str) -> frozenset[int] | None:
        """The identity ids of the person `key` (following merges); None if unknown."""
        ...

    def persons_of(self, identities: Collection[int]) -> dict[int, PersonRef]:
        """The live person of each of these identity ids (unknown ids are left out)."""
        ...


class SearchResult(Frozen):  # a frozen record, not a dataclass (search.frozen; issue 14)
    __slots__ = __match_args__ = ("total", "hits", "facets", "person_names", "next_cursor")
    total: int
    """The true number of matching messages (never capped)."""
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    """Per facet (see `FACETS`), (value, count) pairs: count descending, then value; at most
    `FACET_SIZE` values except `year`, which lists every year, newest first, and `month`,
    which lists every month with a match (``YYYY-MM``, UTC), oldest first (months without a
    match are left out).  The values of `sender` are person keys (count descending, then
    name)."""
    person_names: dict[str, str]
    """The display name of each person key in the `sender` facet."""
    next_cursor: str | None
    """Opaque token for the page after this one (deep pagination); None on the last page."""

    def __init__(
        self,
        total: int,
        hits: list[Hit] | None = None,
        facets: dict[str, list[tuple[str, int]]] | None = None,
        person_names: dict[str, str] | None = None,
        next_cursor: str | None = None,
    ) -> None:
        """`hits`, `facets` and `person_names` default to a new empty list or dict."""
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "hits", [] if hits is None else hits)
        object.__setattr__(self, "facets", {} if facets is None else facets)
        object.__setattr__(self, "person_names", {} if person_names is None else person_names)
        object.__setattr__(self, "next_cursor", next_cursor)


class SearchError(Exception):
    """Base class of search errors shown to users."""


class SearchQueryError(SearchError):
    """The query text cannot be understood; the message says why."""


class IndexOutOfStepError(SearchError):
    """The index cannot forget a document exactly (the text it was indexed with is not found
    again, `search.fts_texts`): the indexer rebuilds it."""


class SearchUnavailableError(SearchError):
    """The backend is down, unreachable or its index is missing."""


class SearchBackend(Protocol):
    """What every backend implements."""

    name: str
    limits: QueryLimits
    """Bounds on the queries `search` accepts (from the settings; see `search.query`)."""

    def index(self, docs: Iterable[IndexDoc]) -> int:
        """Add or replace documents (by key); returns how many were written."""
        ...

    def delete(self, keys: Iterable[str]) -> int: ...

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
        include_private: bool = False,
        persons: PersonResolver | None = None,
        hidden: Collection[str] = (),
    ) -> SearchResult:
        """Run a query in the common syntax (see search.query); raises SearchQueryError.

        `persons` resolves ``person:`` filters and names the sender facet's persons; without
        it a ``person:`` filter is refused and the sender facet left out.

        `cursor` (a previous result's `next_cursor`) continues after that page and replaces
        `offset`; backends use it for deep pagination without cost growing with depth.
        Private messages (`IndexDoc.private`) are left out unless `include_private` is set:
        only trusted callers (the secretariat's CLI) set it, never the anonymous web API.

        `hidden` names messages the store has removed whose documents the index may still
        hold (`search.reader.removed_in_index`: a removal the index could not follow yet):
        they are left out of the hits, the total and the facets, as if they were not
        indexed; a key the index does not hold changes nothing."""
        ...

    def get_checkpoint(self) -> int:
        """The store change sequence up to which this index is complete."""
        ...

    def set_checkpoint(self, seq: int) -> None: ...

    def get_store_id(self) -> str:
        """Identity of the store this index was built from ("" for a fresh index)."""
        ...

    def set_store_id(self, store_id: str) -> None: ...

    def clear(self) -> None:
        """Start again from no document and checkpoint 0 (used by reindex)."""
        ...

    def finish_rebuild(self) -> None:
        """Called when a rebuild begun by `clear()` is complete (Elasticsearch swaps its
        alias to the new index here, so searches never see a half-built index)."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...
