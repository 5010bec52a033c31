"""Open the configured search backend by name."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from config.settings import Settings
from search import SQLITE_FILENAME as SQLITE_FILENAME
from search.base import SearchBackend, SearchUnavailableError
from search.query import DEFAULT_LIMITS, QueryLimits
from search.snippets import DEFAULT_TEXT_LIMITS, TextLimits
from search.sqlite_fts import SqliteFtsBackend

logger = logging.getLogger(__name__)

KINDS = ("sqlite", "elasticsearch")


def open_backend(
    kind: str,
    data_dir: Path,
    url: str = "",
    *,
    index_prefix: str = "listarchive-messages",
    username: str = "",
    password: str = "",
    limits: QueryLimits = DEFAULT_LIMITS,
    text_limits: TextLimits = DEFAULT_TEXT_LIMITS,
    parallel: tuple[int, int] = (1, 100_000),
) -> SearchBackend:
    """The backend `kind` ("sqlite" or "elasticsearch"); raises `SearchUnavailableError`.

    Credentials are passed in by the caller, who reads them from the environment only.
    `parallel`: the embedded backend's threads and fewest matches of a split relevance
    search (`search.fts_parallel`)."""
    if kind == "sqlite":
        threads, min_matches = parallel
        return SqliteFtsBackend(
            data_dir / SQLITE_FILENAME,
            limits=limits,
            text_limits=text_limits,
            parallel_threads=threads,
            parallel_min_matches=min_matches,
        )
    if kind == "elasticsearch":
        from search.elastic import ElasticBackend

        return ElasticBackend(
            url or "http://localhost:9200",
            prefix=index_prefix,
            username=username,
            password=password,
            limits=limits,
            text_limits=text_limits,
        )
    raise SearchUnavailableError(
        f"unknown search backend {kind!r}; expected one of: {', '.join(KINDS)}"
    )


def open_configured(settings: Settings) -> SearchBackend:
    """The backend the settings select.  Elasticsearch credentials come from the environment
    only (`LISTARCHIVE_SEARCH_USERNAME`, `LISTARCHIVE_SEARCH_PASSWORD`), never from a file."""
    return open_backend(
        settings["search.backend"],
        settings.data_dir,
        settings["search.url"],
        index_prefix=settings["search.index"],
        username=os.environ.get("LISTARCHIVE_SEARCH_USERNAME", ""),
        password=os.environ.get("LISTARCHIVE_SEARCH_PASSWORD", ""),
        limits=QueryLimits(
            max_length=settings["search.max_query_length"],
            max_depth=settings["search.max_query_depth"],
            max_terms=settings["search.max_terms"],
            max_prefix_terms=settings["search.max_prefix_terms"],
            min_prefix_chars=settings["search.min_prefix_chars"],
        ),
        text_limits=TextLimits(
            max_indexed_bytes=settings["search.max_indexed_bytes"],
            max_snippet_bytes=settings["search.max_snippet_bytes"],
        ),
        parallel=(settings["search.parallel_threads"], settings["search.parallel_min_matches"]),
    )
