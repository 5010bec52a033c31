"""`/healthz`: always JSON, and says what is unhealthy.

`{"status": "ok" | "unhealthy", "messages": N, "indexed": N, "checks": {"store": {...},
"index": {...}}}`, HTTP 503 when unhealthy.  Each check has a `status` (`ok`, `behind` for an
index a sync has not caught up yet, `error`) and, when not ok, an `error` saying what is wrong.
The counts are of public messages only (anyone may probe this): `messages` in the store,
`indexed` those the index holds; null when the store cannot be read.

A probe reads little of the store, so it also asks SQLite: `PRAGMA quick_check` (every page's
structure) runs at most every `web.health_check_interval` seconds in each web process and its
verdict is kept in between (`Integrity`).  Damage met by any request (a message page whose rows
sit on a damaged page) marks the store damaged at once; the mark stays until a quick_check
run after it (no sooner than the interval) finds the store sound again, e.g. once restored.
The search index likewise: a probe reads only its metadata, so an index failure met by a
request (a damaged FTS page under a search) makes the `index` check an error for the next
`web.health_check_interval` seconds after the last such failure.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app

from search.base import SearchError, SearchUnavailableError
from store import faults, health
from store.errors import StoreCorruptError
from store.store import Store, StoreError
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
        fault = integrity().index_fault(settings()["web.health_check_interval"])
        if "index" in checks:
            pass
        elif fault is not None:
            checks["index"] = _error(fault)
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
        store = get_store()
        damage = integrity().verdict(store, settings()["web.health_check_interval"])
        if damage is not None:  # known: not noted again (that would put off the next check)
            checks["store"] = _error(errors.public_message(damage))
            return None
        counts = health.public_counts(store.conn, checkpoint)
    except (StoreError, sqlite3.Error) as exc:
        found = faults.classify(exc, settings().store_path)
        if found is None:
            logger.exception("health check of the store failed")
            found = StoreError("the store could not be read (see the server log)")
        elif isinstance(found, StoreCorruptError):
            integrity().note(found)
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


# -- the store's integrity, as this web process knows it ----------------------------------


@dataclass
class Integrity:
    """The last `PRAGMA quick_check` of the store in this process and damage met since.
    `clock` (monotonic seconds) is the one seam tests turn."""

    clock: Callable[[], float] = time.monotonic
    checked_at: float | None = None
    damage: StoreCorruptError | None = None
    damaged_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    index_failure: str | None = None
    index_failed_at: float | None = None

    def note_index(self, failure: str) -> None:
        """A request met an index failure (what it was told): /healthz says it for a while."""
        if self.index_failure is None:
            logger.error("the search index failed a request: /healthz answers 503: %s", failure)
        self.index_failure, self.index_failed_at = failure, self.clock()

    def index_fault(self, interval: float) -> str | None:
        """The index failure met in the last `interval` seconds, or None."""
        failed_at = self.index_failed_at
        if failed_at is not None and self.clock() - failed_at >= interval:
            self.index_failure = self.index_failed_at = None
        return self.index_failure

    def note(self, damage: StoreCorruptError) -> None:
        """A query met damage: the store is damaged until a later check finds it sound."""
        if self.damage is None:
            logger.error("the store is damaged: /healthz answers 503: %s", damage)
        self.damage, self.damaged_at = damage, self.clock()

    def due(self, interval: float) -> bool:
        if self.checked_at is None:
            return True
        since = max(self.checked_at, self.damaged_at or self.checked_at)
        return self.clock() - since >= interval

    def verdict(self, store: Store, interval: float) -> StoreCorruptError | None:
        """The damage known of `store`, after a quick_check when one is due.  One probe runs
        it at a time; others meanwhile answer with the last verdict (the first probes wait
        for the first one)."""
        if self.due(interval) and self.lock.acquire(blocking=self.checked_at is None):
            try:
                if self.due(interval):  # not checked meanwhile by another probe
                    self._check(store)
            finally:
                self.lock.release()
        return self.damage

    def _check(self, store: Store) -> None:
        started = time.monotonic()
        try:
            problems = health.integrity_problems(store.conn, quick=True)
        except sqlite3.DatabaseError as exc:  # damage the check itself ran into
            found = faults.classify(exc, store.path)
            if not isinstance(found, StoreCorruptError):
                raise
            problems = [str(exc)]
        self.checked_at = self.clock()
        logger.debug("PRAGMA quick_check of %s: %.3f s", store.path, time.monotonic() - started)
        if problems:
            logger.error("PRAGMA quick_check of %s found damage: %s", store.path, problems)
            self.damage = StoreCorruptError(
                store.path, f"the store is damaged (PRAGMA quick_check: {problems[0]})"
            )
            self.damaged_at = self.checked_at
        elif self.damage is not None:
            logger.warning("PRAGMA quick_check of %s: sound again", store.path)
            self.damage = self.damaged_at = None


_STATE = "listarchive.integrity"


def integrity(app: Flask | None = None) -> Integrity:
    state: Integrity = (app or current_app).extensions[_STATE]
    return state


def _noting_damage(exc: Exception) -> tuple[Response, int]:
    """SQLite errors and damage met by any request: damage is noted for `/healthz`, then the
    one error handler answers (a 503 saying what to do)."""
    found = faults.classify(exc, settings().store_path)
    if isinstance(found, StoreCorruptError):
        integrity().note(found)
    return errors.handle(exc)


def _noting_index_failure(exc: SearchUnavailableError) -> tuple[Response, int]:
    """A search that found the index unusable: noted for `/healthz`, then answered as any."""
    integrity().note_index(errors.public_message(exc))
    return errors.handle(exc)


def init_app(app: Flask) -> None:
    app.extensions[_STATE] = Integrity()
    app.register_error_handler(SearchUnavailableError, _noting_index_failure)
    for kind in (sqlite3.Error, StoreCorruptError):
        app.register_error_handler(kind, _noting_damage)
