"""`listarchive scheduler`: the long-running process that keeps every list in sync.

Its own process, never started by the web app.  One APScheduler job per list, each a thin call
to `run_job`, with `max_instances=1` and coalescing; the per-list lock in the store keeps two
schedulers (or a scheduler and a manual `sync`) from ingesting one list at once.  SIGTERM or
SIGINT sets a stop flag: the running sync finishes the volumes it has downloaded and stores
them, no new volume is fetched, and the process exits.

Runs are incremental: only new, failed and the two newest volumes (the current and previous
period) are requested, so a new message costs the index request plus its volume; every volume is
re-checked (conditionally) when the last full check is older than `scheduler.full_check`.

Schedules: `schedule = "30m"` (an interval: s, m, h or d) or `schedule = "cron: */15 * * * *"`
in a list's `[lists.NAME]` table; other lists use the `scheduler.interval` setting.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import ConfigError, Settings
from listarchive import app, heartbeat, reports
from store.runs import last_full_check
from store.store import Store

logger = logging.getLogger(__name__)

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Schedule:
    spec: str
    trigger: IntervalTrigger | CronTrigger


def parse_schedule(spec: str) -> Schedule:
    """`30m`, `6h`, `1d` (interval) or `cron: <5-field crontab>`; raises ConfigError."""
    text = spec.strip()
    if text.lower().startswith("cron:"):
        expression = text[5:].strip()
        try:
            return Schedule(spec, CronTrigger.from_crontab(expression, timezone=UTC))
        except ValueError as exc:
            raise ConfigError(f"schedule {spec!r}: bad cron expression: {exc}") from exc
    return Schedule(spec, IntervalTrigger(seconds=parse_duration(text), timezone=UTC))


def parse_duration(spec: str) -> int:
    """Seconds in `30m`, `6h`, `1d` or `90s`; raises ConfigError."""
    match = _INTERVAL.match(spec)
    if not match or int(match[1]) == 0:
        raise ConfigError(f"schedule {spec!r}: expected e.g. '30m', '6h' or 'cron: 0 * * * *'")
    return int(match[1]) * _UNITS[match[2]]


def schedules(settings: Settings, list_names: list[str]) -> dict[str, Schedule]:
    declared = {lc.name: lc.schedule for lc in settings.lists if lc.schedule}
    default = settings["scheduler.interval"]
    return {name: parse_schedule(declared.get(name, default)) for name in list_names}


def run_job(settings: Settings, list_name: str, stop: threading.Event) -> None:
    """One scheduled sync of one list: a thin call that logs instead of raising."""
    try:
        _run_job(settings, list_name, stop)
    except Exception:
        logger.exception("scheduled sync of %s failed", list_name)


def full_check_due(settings: Settings, store: Store, list_name: str) -> bool:
    """A scheduled run checks every volume when the last full check is older than
    `scheduler.full_check`; otherwise only new, failed and the two newest volumes."""
    finished = last_full_check(store.conn, list_name)
    if finished is None:
        return True
    age = datetime.now(UTC) - datetime.fromisoformat(finished)
    return age.total_seconds() >= parse_duration(settings["scheduler.full_check"])


def _run_job(settings: Settings, list_name: str, stop: threading.Event) -> None:
    store = app.open_store(settings)
    try:
        summaries, indexed, index_error = app.sync(
            settings,
            store,
            [list_name],
            stop=stop,
            full=lambda name: full_check_due(settings, store, name),
        )
    finally:
        store.close()
    for summary in summaries:
        logger.info("%s", reports.format_summary(summary))
    if index_error:
        logger.warning("search index not updated: %s", index_error)
    else:
        logger.info("search index: %d messages indexed", indexed)


def build(settings: Settings, stop: threading.Event) -> BlockingScheduler:
    store = app.open_store(settings)
    try:
        names = [info.name for info in store.lists()]
    finally:
        store.close()
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600},
    )
    now = datetime.now(UTC)
    for name, schedule in schedules(settings, names).items():
        scheduler.add_job(
            run_job,
            schedule.trigger,
            args=[settings, name, stop],
            id=f"sync:{name}",
            name=f"sync {name} ({schedule.spec})",
            next_run_time=now,  # a first run at start-up, then on schedule
        )
    logger.info("scheduler: %d lists scheduled", len(names))
    heartbeat.install(scheduler, settings)  # for `listarchive scheduler-health`
    return scheduler


def run_once(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run every list's job once, in this thread (for `scheduler --once`, tests and cron)."""
    stop = stop or threading.Event()
    store = app.open_store(settings)
    try:
        names = [info.name for info in store.lists()]
    finally:
        store.close()
    for name in names:
        if stop.is_set():
            break
        run_job(settings, name, stop)


def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; the current sync stops cleanly at a volume boundary."""
    stop = threading.Event()
    scheduler = build(settings, stop)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("scheduler: signal %d, stopping after the current volume", signum)
        stop.set()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    logger.info("scheduler: stopped")
