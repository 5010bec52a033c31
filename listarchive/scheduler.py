"""`listarchive scheduler`: the long-running process that keeps every list in sync.

Its own process, never started by the web app.  One APScheduler job per list, each a thin call
to `run_job`, with `max_instances=1` and coalescing; the per-list lock in the store keeps two
schedulers (or a scheduler and a manual `sync`) from ingesting one list at once.  SIGTERM or
SIGINT sets a stop flag: the running sync finishes the volumes it has downloaded and stores
them, no new volume is fetched, and the process exits.

The lists declared in the settings file are applied to the store once, when the scheduler
starts and when the file changes, never per job: a job reads its own list only, so its cost
does not grow with the number of lists.  A refresh job (every `scheduler.refresh`) follows the
store: a list added (`lists add`, or a new `[lists.NAME]` in a changed file) gets a job, a list
gone from the store loses its job (a run in progress finishes normally), a changed `schedule`
is applied.

Runs are incremental: only new, failed and the two newest volumes (the current and previous
period) are requested, so a new message costs the index request plus its volume; every volume is
re-checked (conditionally) when the last full check is older than `scheduler.full_check`.

Schedules: `schedule = "30m"` (an interval: s, m, h or d) or `schedule = "cron: */15 * * * *"`
in a list's `[lists.NAME]` table; other lists use the `scheduler.interval` setting.  With
`scheduler.spread` (the default) each list runs at its own fixed offset in its interval (a hash
of its name), so 500 lists on `1h` run about one every 7 s rather than all at start-up; a list
never synced runs at once.  Cron schedules keep their exact times.

A `prepare` job (every `scheduler.prepare_every` seconds, 0 = none) prepares the statistics
dashboards again when the store changed without a sync (a merge, a bot mark, a removal or an
undo in the web UI, a CLI command's change run with `--no-prepare`): `prepare_job`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import ConfigError, Settings, load_settings
from listarchive import app, heartbeat, preparing, reports, syncing
from store import faults
from store.runs import last_full_check
from store.store import Store

logger = logging.getLogger(__name__)

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PHASE_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
_JOB_PREFIX = "sync:"
REFRESH_JOB = "refresh"
PREPARE_JOB = "prepare"


@dataclass(frozen=True, slots=True)
class Schedule:
    spec: str
    trigger: IntervalTrigger | CronTrigger
    spread: bool = False
    """An interval whose runs fall at the list's fixed offset (`phase`) in it."""


def parse_schedule(spec: str, list_name: str = "", *, spread: bool = False) -> Schedule:
    """`30m`, `6h`, `1d` (interval) or `cron: <5-field crontab>`; raises ConfigError.

    With `spread`, an interval's runs fall at `list_name`'s fixed offset in it (`phase`): the
    same at every start, different from list to list."""
    text = spec.strip()
    if text.lower().startswith("cron:"):
        expression = text[5:].strip()
        try:
            return Schedule(spec, CronTrigger.from_crontab(expression, timezone=UTC))
        except ValueError as exc:
            raise ConfigError(f"schedule {spec!r}: bad cron expression: {exc}") from exc
    seconds = parse_duration(text)
    if not spread:
        return Schedule(spec, IntervalTrigger(seconds=seconds, timezone=UTC))
    start = _PHASE_ORIGIN + timedelta(seconds=phase(list_name, seconds))
    return Schedule(spec, IntervalTrigger(seconds=seconds, start_date=start, timezone=UTC), True)


def phase(list_name: str, seconds: int) -> int:
    """The list's offset in an interval of `seconds`: a hash of its name, so deterministic."""
    digest = hashlib.sha256(list_name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % seconds


def parse_duration(spec: str) -> int:
    """Seconds in `30m`, `6h`, `1d` or `90s`; raises ConfigError."""
    match = _INTERVAL.match(spec)
    if not match or int(match[1]) == 0:
        raise ConfigError(f"schedule {spec!r}: expected e.g. '30m', '6h' or 'cron: 0 * * * *'")
    return int(match[1]) * _UNITS[match[2]]


def schedules(settings: Settings, list_names: list[str]) -> dict[str, Schedule]:
    declared = {lc.name: lc.schedule for lc in settings.lists if lc.schedule}
    default = settings["scheduler.interval"]
    spread = bool(settings["scheduler.spread"])
    return {
        name: parse_schedule(declared.get(name, default), name, spread=spread)
        for name in list_names
    }


def run_job(settings: Settings, list_name: str, stop: threading.Event) -> None:
    """One scheduled sync of one list: a thin call that logs instead of raising.  The declared
    lists are already applied to the store (by the scheduler, once): this reads one list."""
    try:
        _run_job(settings, list_name, stop)
    except app.UsageError as exc:  # the list was removed: the next refresh drops its job
        logger.info("scheduled sync of %s skipped: %s", list_name, exc)
    except Exception as exc:
        found = faults.classify(exc, settings.store_path)
        if found is None:
            logger.exception("scheduled sync of %s failed", list_name)
        else:  # a full disk, a damaged or unusable store: one clear line, not a traceback
            logger.error("scheduled sync of %s failed: %s", list_name, found)


def full_check_due(settings: Settings, store: Store, list_name: str) -> bool:
    """A scheduled run checks every volume when the last full check is older than
    `scheduler.full_check`; otherwise only new, failed and the two newest volumes."""
    finished = last_full_check(store.conn, list_name)
    if finished is None:
        return True
    age = datetime.now(UTC) - datetime.fromisoformat(finished)
    return age.total_seconds() >= parse_duration(settings["scheduler.full_check"])


def _run_job(settings: Settings, list_name: str, stop: threading.Event) -> None:
    store = app.open_store(settings, declare=False)
    try:
        options = syncing.SyncOptions(
            stop=stop, full=lambda name: full_check_due(settings, store, name)
        )
        outcome = syncing.sync(settings, store, [list_name], options)
    finally:
        store.close()
    for summary in outcome.summaries:
        logger.info("%s", reports.format_summary(summary))
    if outcome.index_error:
        logger.warning("search index not updated: %s", outcome.index_error)
    else:
        logger.info("search index: %d messages indexed", outcome.indexed)
    if preparing.stored_messages(outcome.summaries):
        prepare_statistics(settings)


def prepare_statistics(settings: Settings) -> None:
    """The default statistics dashboards computed once into the store after a sync that
    stored messages (`listarchive.preparing`, `webui.stats_prepare`), so that no visitor
    waits for them; one preparation at a time."""
    preparing.prepare_statistics(settings)


def prepare_job(settings: Settings) -> None:
    """The statistics prepared again when the store's state has no preparation yet (a change
    made without a sync; `preparing.prepare_if_changed`: one read of the state when it has
    one), in a store of `analytics.snapshot_min_posts` messages or more.  A thin call that
    logs instead of raising; nothing while a sync's preparation runs in this process (it
    leaves its mark, or the next look prepares)."""
    if preparing.running():
        return
    try:
        preparing.prepare_if_changed(settings)
    except Exception as exc:
        found = faults.classify(exc, settings.store_path)
        logger.error("scheduler: statistics not prepared: %s", found or exc)


def reload_settings(settings: Settings) -> Settings:
    """The settings again from the same file (and the environment), with the same
    command-line overrides; raises ConfigError."""
    overrides = {n: settings[n] for n, layer in settings.sources.items() if layer == "override"}
    return load_settings(settings.config_file, overrides=overrides)


def _file_digest(settings: Settings) -> str:
    if settings.config_file is None:
        return ""
    try:
        return hashlib.sha256(settings.config_file.read_bytes()).hexdigest()
    except OSError:
        return ""


class ListJobs:
    """The jobs of one scheduler: one per list of the store, kept in step by `refresh`.

    It keeps one connection to the store open while the scheduler runs (`start` to `close`):
    a job's connection is then never the last one, whose close makes SQLite checkpoint and
    delete the WAL, for the next job's first write to create it again (tens of ms a job)."""

    def __init__(self, settings: Settings, stop: threading.Event, scheduler: BaseScheduler):
        self.settings = settings
        self.stop = stop
        self.scheduler = scheduler
        self._digest = _file_digest(settings)
        self._schedules: dict[str, Schedule] = {}
        self._store: Store | None = None

    def start(self) -> None:
        """Apply the declared lists to the store (once) and schedule every list."""
        self._store = app.open_store(self.settings)
        self._follow(self._store.last_syncs(), started=False)
        logger.info("scheduler: %d lists scheduled", len(self._schedules))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def run(self, list_name: str) -> None:
        run_job(self.settings, list_name, self.stop)

    def refresh(self) -> None:
        """Re-read a changed settings file (its lists applied to the store), then add the jobs
        of lists added to the store, drop those of lists gone, apply changed schedules."""
        store = self._store
        if store is None:
            return
        try:
            changed = self._changed_settings()
            if changed is not None:
                if changed.store_path != self.settings.store_path:
                    raise ConfigError("data_dir changed: restart the scheduler to use it")
                app.check_declared_names(changed)
                app.declare_lists(changed, store)
                self.settings = changed
                logger.info("scheduler: %s changed: settings reloaded", changed.config_file)
            self._follow(store.last_syncs(), started=True)
        except ConfigError as exc:
            logger.error("scheduler: the changed settings file is not applied: %s", exc)
        except Exception:
            logger.exception("scheduler: refreshing the list jobs failed")

    def _changed_settings(self) -> Settings | None:
        """The settings re-read when the file's content changed since last looked at; raises
        ConfigError (once per change: the file is not re-read until it changes again)."""
        digest = _file_digest(self.settings)
        if digest == self._digest:
            return None
        self._digest = digest
        return reload_settings(self.settings)

    def _follow(self, synced: dict[str, str | None], *, started: bool) -> None:
        wanted = schedules(self.settings, list(synced))
        for name in [n for n in self._schedules if n not in wanted]:
            if self.scheduler.get_job(_JOB_PREFIX + name) is not None:
                self.scheduler.remove_job(_JOB_PREFIX + name)  # a running sync finishes
            del self._schedules[name]
            logger.info("scheduler: list %s is gone, its job removed", name)
        now = datetime.now(UTC)
        for name, schedule in wanted.items():
            job_id, label = _JOB_PREFIX + name, f"sync {name} ({schedule.spec})"
            old = self._schedules.get(name)
            if old is not None and (old.spec, old.spread) == (schedule.spec, schedule.spread):
                continue
            self._schedules[name] = schedule
            if old is not None and self.scheduler.get_job(job_id) is not None:
                self.scheduler.modify_job(job_id, name=label)
                self.scheduler.reschedule_job(job_id, trigger=schedule.trigger)
                logger.info("scheduler: list %s now on %s", name, schedule.spec)
                continue
            # never synced, or not spread: a first run now; otherwise at the schedule's time
            due_now = synced[name] is None or not self.settings["scheduler.spread"]
            self.scheduler.add_job(
                self.run,
                schedule.trigger,
                args=[name],
                id=job_id,
                name=label,
                **({"next_run_time": now} if due_now else {}),
            )
            if old is None and started:
                logger.info("scheduler: list %s added, on %s", name, schedule.spec)


def build(settings: Settings, stop: threading.Event) -> BlockingScheduler:
    """The scheduler, its list jobs (the declared lists applied to the store once, here) and
    the refresh job that keeps them in step with the store and the settings file."""
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600},
    )
    jobs = ListJobs(settings, stop, scheduler)
    jobs.start()
    scheduler.add_listener(lambda _event: jobs.close(), EVENT_SCHEDULER_SHUTDOWN)
    scheduler.add_job(
        jobs.refresh,
        IntervalTrigger(seconds=parse_duration(settings["scheduler.refresh"]), timezone=UTC),
        id=REFRESH_JOB,
        name="refresh the list jobs",
    )
    every = int(settings["scheduler.prepare_every"])
    if every > 0:
        scheduler.add_job(
            lambda: prepare_job(jobs.settings),
            IntervalTrigger(seconds=every, timezone=UTC),
            id=PREPARE_JOB,
            name="prepare the statistics after a change",
        )
    heartbeat.install(scheduler, settings)  # for `listarchive scheduler-health`
    return scheduler


def run_once(settings: Settings, stop: threading.Event | None = None) -> None:
    """Run every list's job once, in this thread (for `scheduler --once`, tests and cron); the
    declared lists are applied to the store once, before."""
    stop = stop or threading.Event()
    store = app.open_store(settings)  # open till the end, as `ListJobs` keeps one
    try:
        for name in store.last_syncs():
            if stop.is_set():
                break
            run_job(settings, name, stop)
    finally:
        store.close()
    if not stop.is_set() and int(settings["scheduler.prepare_every"]) > 0:
        prepare_job(settings)  # a change made since without a sync


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
