"""Open the configured search backend by name."""

from __future__ import annotations

import logging
from pathlib import Path

from search.base import SearchBackend, SearchUnavailableError
from search.sqlite_fts import SqliteFtsBackend

logger = logging.getLogger(__name__)

SQLITE_FILENAME = "search-fts.db"
KINDS = ("sqlite", "elasticsearch")


def open_backend(kind: str, data_dir: Path, url: str = "") -> SearchBackend:
    """The backend `kind` ("sqlite" or "elasticsearch"); raises `SearchUnavailableError`."""
    if kind == "sqlite":
        return SqliteFtsBackend(data_dir / SQLITE_FILENAME)
    if kind == "elasticsearch":
        logger.warning("elasticsearch backend requested (%s) but not available", url or "no url")
        raise SearchUnavailableError("elasticsearch backend not available yet")
    raise SearchUnavailableError(
        f"unknown search backend {kind!r}; expected one of: {', '.join(KINDS)}"
    )
