"""`/healthz`: always JSON, and says what is unhealthy.

`{"status": "ok" | "unhealthy", "messages": N, "indexed": N, "checks": {"store": {...},
"index": {...}}}`, HTTP 503 when unhealthy.  Each check has a `status` (`ok`, `behind` for an
index a sync has not caught up yet, `error`) and, when not ok, an `error` saying what is wrong.
The counts are of public messages only (anyone may probe this): `messages` in the store,
`indexed` those the index holds; null when the store cannot be read.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from search.base import SearchError
from store import faults, health
from store.store import StoreError
from webui import errors
from webui.extensions import get_search, get_store, settings

logger = logging.getLogger(__name__)


def report() -> tuple[dict[str, Any], int]:
    """The health report and its HTTP status (200 healthy, 503 not)."""
    checks: dict[str, dict[str, Any]] = {}
    index = _index_facts(checks)  # sets checks["index"] when the index cannot be read
    counts = _store_counts(checks, index.get("checkpoint", 0))
    messages = indexed = None
    if counts is not None:
        messages, unindexed = counts
        if "index" in checks:
            pass
        elif index["store_id"] and index["store_id"] != get_store().store_id:
            checks["index"] = _error("the search index was built from another store: reindex")
        elif messages and not index["store_id"]:
            checks["index"] = _error("the search index is empty: run `listarchive reindex`")
        elif unindexed:
            checks["index"] = {"status": "behind", "behind": unindexed}
        else:
            checks["index"] = {"status": "ok"}
        if checks["index"]["status"] != "error":
            indexed = messages - unindexed
    checks.setdefault("index", {"status": "ok"})  # readable; the store is the problem
    checks["index"]["backend"] = index.get("backend", settings()["search.backend"])
    healthy = all(check["status"] != "error" for check in checks.values())
    body = {
        "status": "ok" if healthy else "unhealthy",
        "messages": messages,
        "indexed": indexed,
        "checks": checks,
    }
    return body, 200 if healthy else 503


def _error(message: str) -> dict[str, Any]:
    return {"status": "error", "error": message}


def _store_counts(checks: dict[str, dict[str, Any]], checkpoint: int) -> tuple[int, int] | None:
    try:
        counts = health.public_counts(get_store().conn, checkpoint)
    except (StoreError, sqlite3.Error) as exc:
        found = faults.classify(exc, settings().store_path)
        if found is None:
            logger.exception("health check of the store failed")
            found = StoreError("the store could not be read (see the server log)")
        checks["store"] = _error(errors.public_message(found))
        return None
    checks["store"] = {"status": "ok"}
    return counts


def _index_facts(checks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    try:
        backend = get_search()
        return {
            "backend": backend.name,
            "store_id": backend.get_store_id(),
            "checkpoint": backend.get_checkpoint(),
        }
    except SearchError as exc:
        checks["index"] = _error(str(exc))
    except Exception:  # a health probe answers, whatever broke
        logger.exception("health check of the search index failed")
        checks["index"] = _error("the search index could not be read (see the server log)")
    return {}
