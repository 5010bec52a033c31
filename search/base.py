"""The search interface: one protocol, two backends (SQLite FTS5 embedded, Elasticsearch).

Backends index `IndexDoc`s built from the store and answer `SearchRequest`s parsed by
`search.query.parse_query`.  The web UI and CLI catch only `SearchError` subclasses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Sort = Literal["relevance", "date", "date_asc"]


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What a backend indexes for one message (denormalised, rebuilt from the store)."""

    key: str
    message_id: str
    lists: tuple[str, ...]
    thread_id: str
    from_name: str
    from_addr: str
    subject: str
    date: datetime | None
    body_own: str
    body_quoted: str
    attachments: tuple[str, ...] = ()
    community: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    message_id: str
    lists: tuple[str, ...]
    subject: str
    from_name: str
    from_addr: str
    date: datetime | None
    thread_id: str
    snippet: str
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    """The true number of matching messages (never capped)."""
    hits: list[Hit] = field(default_factory=list)


class SearchError(Exception):
    """Base class of search errors shown to users."""


class SearchQueryError(SearchError):
    """The query text cannot be understood; the message says why."""


class SearchUnavailableError(SearchError):
    """The backend is down, unreachable or its index is missing."""


class SearchBackend(Protocol):
    """What every backend implements."""

    name: str

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
    ) -> SearchResult:
        """Run a query in the common syntax (see search.query); raises SearchQueryError."""
        ...

    def get_checkpoint(self) -> int:
        """The store change sequence up to which this index is complete."""
        ...

    def set_checkpoint(self, seq: int) -> None: ...

    def clear(self) -> None:
        """Drop every document and reset the checkpoint (used by reindex)."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...
