"""The scheduler's heartbeat, for health checks (the compose healthcheck of the scheduler).

`listarchive scheduler` rewrites `<data_dir>/scheduler-heartbeat.json` every
`scheduler.heartbeat` seconds from a job of its own, run by an executor of its own (so it beats
while every sync thread is busy, and stops when the scheduler's loop stops dispatching jobs).
`listarchive scheduler-health` reads it: healthy while the last beat is younger than three
intervals. The file holds the pid, the time and the number of scheduled list jobs; it is
written 0600 and replaced atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import Settings

logger = logging.getLogger(__name__)

HEARTBEAT_FILE = "scheduler-heartbeat.json"
JOB_ID = "heartbeat"
STALE_AFTER_BEATS = 3


def heartbeat_path(settings: Settings) -> Path:
    return settings.data_dir / HEARTBEAT_FILE


def interval(settings: Settings) -> int:
    return max(1, int(settings["scheduler.heartbeat"]))


def beat(path: Path, *, jobs: int, now: datetime | None = None) -> None:
    """Write one heartbeat (atomically, mode 0600)."""
    record = {
        "pid": os.getpid(),
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "jobs": jobs,
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
    os.replace(temporary, path)


def install(scheduler: BaseScheduler, settings: Settings) -> None:
    """Add the heartbeat job (first beat at once) to a scheduler that has not started."""
    path = heartbeat_path(settings)

    def job() -> None:
        try:
            jobs = sum(1 for j in scheduler.get_jobs() if j.id != JOB_ID)
            beat(path, jobs=jobs)
        except OSError as exc:
            logger.error("scheduler heartbeat not written to %s: %s", path, exc)

    scheduler.add_executor(ThreadPoolExecutor(max_workers=1), alias=JOB_ID)
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=interval(settings), timezone=UTC),
        id=JOB_ID,
        name="heartbeat",
        executor=JOB_ID,
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )


@dataclass(frozen=True)
class Health:
    healthy: bool
    message: str
    record: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        status = "ok" if self.healthy else "unhealthy"
        return {"status": status, "message": self.message, "heartbeat": self.record}


def check(
    settings: Settings, *, max_age: float | None = None, now: datetime | None = None
) -> Health:
    """Is the scheduler beating? Unhealthy when the heartbeat is missing, unreadable, or older
    than `max_age` seconds (default: three `scheduler.heartbeat` intervals)."""
    path = heartbeat_path(settings)
    limit = max_age if max_age is not None else STALE_AFTER_BEATS * interval(settings)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        at = datetime.fromisoformat(record["at"])
    except FileNotFoundError:
        return Health(False, f"no heartbeat at {path}: is `listarchive scheduler` running?", {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Health(False, f"heartbeat {path} cannot be read: {exc}", {})
    age = ((now or datetime.now(UTC)) - at) / timedelta(seconds=1)
    if age > limit:
        return Health(
            False,
            f"last heartbeat {age:.0f} s ago (more than {limit:.0f} s): stuck or stopped",
            record,
        )
    return Health(True, f"last heartbeat {age:.0f} s ago (pid {record.get('pid')})", record)
