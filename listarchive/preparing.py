"""The statistics prepared after a sync that stored messages (issue 14, task PR): the default
dashboards computed once into the store by `webui.stats_prepare` (their figures, the frame
snapshots and the bot scores), so that neither a web visitor nor a fresh web worker waits for
them.  The scheduler asks for it after each such run, and so does `listarchive sync` (unless
`--no-prepare`) when the store holds `analytics.snapshot_min_posts` messages or more
(`worth_preparing`), since a sync run by hand, a first start or a change made without the
scheduler would otherwise leave the first visitor to load the frame from the messages (~7 s
of CPU at 1M); below that bound a frame loads in about half a second and a sync by hand is
not made to wait for every dashboard.

One preparation at a time per process: syncs that end while one runs ask for one more, run
once after it (by whichever caller is preparing), not one each.  A failure is logged (one
line) and reported (`Prepared.error`), never raised: the sync is done and stored, a failure
here costs only speed.

Changes made without a sync (task PR2: a merge, a bot mark, a removal or an undo in the web
UI or the CLI, `listarchive reparse`) change the state the figures are kept for
(`store.figure_cache.state`) too.  A preparation that ends in the state it started in leaves
a mark in the figure cache (`MARK`, kept for that state, gone with the next state as every
figure is); `prepare_if_changed` (the scheduler's `prepare` job, and the CLI commands that
change the state) reads the state and that mark, and prepares only when the mark is missing,
in a store worth it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from store import figure_cache, locks

if TYPE_CHECKING:
    from config.settings import Settings
    from ingest.sync import RunSummary

logger = logging.getLogger(__name__)

MARK = "prepared"
"""The figure cache's key that says: the statistics were prepared in this entry's state."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a preparation did: the pages that answered, its wall time, and why it failed
    ("" when it ran)."""

    pages: int
    seconds: float
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "failed" if self.error else "done",
            "pages": self.pages,
            "seconds": round(self.seconds, 1),
            "error": self.error,
        }

    def line(self) -> str:
        """The summary's line (`statistics: ...`), as the scheduler logs it."""
        if self.error:
            return f"statistics not prepared: {self.error}"
        return f"statistics: {self.pages} pages prepared in {self.seconds:.1f} s"


def stored_messages(summaries: list[RunSummary]) -> bool:
    """Whether a sync changed what the statistics show: a run stored new messages."""
    return any(summary.new_messages for summary in summaries)


def worth_preparing(conn: sqlite3.Connection, settings: Settings) -> bool:
    """Whether a sync by hand prepares: the store holds `analytics.snapshot_min_posts`
    messages or more (the frames the preparation would keep as snapshots)."""
    bound = int(settings["analytics.snapshot_min_posts"])
    found = conn.execute("SELECT count(*) FROM messages").fetchone()
    return int(found[0]) >= bound


_PREPARING = threading.Lock()
_PREPARE_AGAIN = threading.Event()


def prepare_statistics(settings: Settings) -> Prepared | None:
    """Prepare once, or ask the preparation running in this process for one more round
    (None: another caller runs it, in this process or in another: the store's lock
    `LOCK`, whose holder leaves no mark when the state changed meanwhile, so that the
    scheduler's `prepare` job prepares the new state)."""
    _PREPARE_AGAIN.set()
    last: Prepared | None = None
    while _PREPARING.acquire(blocking=False):
        try:
            with _store_lock(settings) as held:
                if not held:
                    _PREPARE_AGAIN.clear()
                    logger.info("statistics: another process prepares them")
                    return None
                while _PREPARE_AGAIN.is_set():
                    _PREPARE_AGAIN.clear()
                    last = prepare_once(settings)
        finally:
            _PREPARING.release()
        if not _PREPARE_AGAIN.is_set():  # else asked for between the loop and the release
            break
    return last


LOCK = "prepare-statistics"
"""The store's lock (`store.locks`) a preparation holds: one at a time across processes (the
scheduler's, a `sync` or a CLI command run by hand)."""
_LOCK_TTL = timedelta(hours=1)


@contextmanager
def _store_lock(settings: Settings) -> Iterator[bool]:
    """Whether this process holds `LOCK` (True, without it, when the store cannot take it:
    a preparation then runs as before the lock, and fails on its own if the store is
    unusable)."""
    owner = locks.default_owner()
    try:
        uri = f"file:{settings.store_path}?mode=rw"  # never creates a store
        conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error:
        yield True
        return
    try:
        try:
            held = locks.acquire(conn, LOCK, owner, _LOCK_TTL)
        except sqlite3.Error as exc:
            logger.warning("statistics: the store's preparation lock not taken: %s", exc)
            yield True
            return
        try:
            yield held
        finally:
            if held:
                try:
                    locks.release(conn, LOCK, owner)
                except sqlite3.Error as exc:  # it expires, or its dead holder is seen
                    logger.warning("statistics: the preparation lock not released: %s", exc)
    finally:
        conn.close()


def running() -> bool:
    """Whether a preparation runs in this process (a sync's, or the scheduler's job's)."""
    return _PREPARING.locked()


def prepare_if_changed(settings: Settings) -> Prepared | None:
    """Prepare when the store's state has no preparation yet (`MARK`) and the store holds
    `analytics.snapshot_min_posts` messages or more; None when nothing ran (the state was
    prepared, the store is small, or another caller in this process prepares).  When the
    state was prepared this reads the state and the mark, nothing else."""
    try:
        conn = _read_only(settings)
        try:
            if _marked(conn, _state(conn)) or not worth_preparing(conn, settings):
                return None
        finally:
            conn.close()
    except sqlite3.Error as exc:  # the change that called us succeeded: never its failure
        logger.warning("statistics not prepared: the store's state not read: %s", exc)
        return None
    return prepare_statistics(settings)


def _read_only(settings: Settings) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{settings.store_path}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _state(conn: sqlite3.Connection) -> str:
    return figure_cache.state(conn)


def _marked(conn: sqlite3.Connection, state: str) -> bool:
    return figure_cache.get(conn, MARK, state) is not None


def _current_state(settings: Settings) -> str:
    """The store's state now ("" when it cannot be read: no mark is left then)."""
    try:
        conn = _read_only(settings)
        try:
            return _state(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        logger.warning("statistics: the store's state not read: %s", exc)
        return ""


def _leave_mark(settings: Settings, before: str, found: Prepared) -> None:
    """The mark of a preparation that ended in the state it started in (a change meanwhile:
    no mark, so the next check prepares again; a mark of the old state would also drop the
    new state's figures, as any put of an older state does)."""
    if not before or _current_state(settings) != before:
        return
    value = json.dumps(found.as_dict())
    if not figure_cache.put(settings.store_path, MARK, before, value):
        logger.info("statistics: the preparation's mark not kept (the store was busy)")


def prepare_once(settings: Settings) -> Prepared:
    """One preparation in this thread, logged; a failure is a `Prepared` with its error.  One
    that ended in the state it started in leaves its mark (`MARK`)."""
    started = time.monotonic()
    before = _current_state(settings)
    try:
        from webui import create_app  # lazy: Flask only for this
        from webui.stats_prepare import prepare

        answered = prepare(create_app(settings))
    except Exception as exc:  # the sync is done and stored: a failure here costs only speed
        error = str(exc) or type(exc).__name__
        # one line (the traceback at debug level)
        logger.error(
            "statistics not prepared: %s", error, exc_info=logger.isEnabledFor(logging.DEBUG)
        )
        return Prepared(0, time.monotonic() - started, error)
    found = Prepared(answered, time.monotonic() - started)
    _leave_mark(settings, before, found)
    logger.info("%s", found.line())
    return found
