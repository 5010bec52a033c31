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
once after it (by whichever caller is preparing), not one each.  A failure is logged and
reported (`Prepared.error`), never raised: the sync is done and stored, a failure here costs
only speed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import Settings
    from ingest.sync import RunSummary

logger = logging.getLogger(__name__)


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
    (None: another caller runs it)."""
    _PREPARE_AGAIN.set()
    last: Prepared | None = None
    while _PREPARING.acquire(blocking=False):
        try:
            while _PREPARE_AGAIN.is_set():
                _PREPARE_AGAIN.clear()
                last = prepare_once(settings)
        finally:
            _PREPARING.release()
        if not _PREPARE_AGAIN.is_set():  # else asked for between the loop and the release
            break
    return last


def prepare_once(settings: Settings) -> Prepared:
    """One preparation in this thread, logged; a failure is a `Prepared` with its error."""
    started = time.monotonic()
    try:
        from webui import create_app  # lazy: Flask only for this
        from webui.stats_prepare import prepare

        answered = prepare(create_app(settings))
    except Exception as exc:  # the sync is done and stored: a failure here costs only speed
        logger.exception("statistics not prepared")
        return Prepared(0, time.monotonic() - started, str(exc) or type(exc).__name__)
    found = Prepared(answered, time.monotonic() - started)
    logger.info("%s", found.line())
    return found
