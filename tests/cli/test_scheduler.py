"""The scheduler: schedules, locked jobs, run records, failing sources, concurrency."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

from config.settings import ConfigError, load_settings
from listarchive.cli import cli
from listarchive.scheduler import build, parse_schedule
from tests.support.archive_server import ArchiveServer


def test_parse_schedule() -> None:
    assert isinstance(parse_schedule("30m").trigger, IntervalTrigger)
    six = parse_schedule("6h").trigger
    assert isinstance(six, IntervalTrigger) and six.interval.total_seconds() == 6 * 3600
    assert isinstance(parse_schedule("cron: */15 * * * *").trigger, CronTrigger)
    for bad in ("0m", "soon", "cron: every day", "15 minutes"):
        with pytest.raises(ConfigError):
            parse_schedule(bad)


def test_bad_schedule_in_config_is_caught_at_start_up(tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    config.write_text('[lists.x]\nmbox = ["a.mbox"]\nschedule = "sometimes"\n')
    with pytest.raises(ConfigError, match="lists.x.schedule"):
        load_settings(config, env={})


def _add(data: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "lists", "add", *args])
    assert result.exit_code == 0, result.output


def test_one_job_per_list_with_its_schedule(corpus: Path, tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    box = corpus / "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[scheduler]\ninterval = "2h"\n'
        f'[lists.a]\nmbox = ["{box}"]\nschedule = "cron: 0 3 * * *"\n'
        f'[lists.b]\nmbox = ["{box}"]\n'
    )
    import threading

    scheduler = build(load_settings(config, env={}), threading.Event())
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"sync:a", "sync:b", "refresh"} <= set(jobs)  # refresh: follows added lists
    assert {name for name in jobs if name.startswith("sync:")} == {"sync:a", "sync:b"}
    assert isinstance(jobs["sync:a"].trigger, CronTrigger)
    assert jobs["sync:b"].trigger.interval.total_seconds() == 7200
    # pending jobs get the scheduler's job defaults when it starts
    assert scheduler._job_defaults["max_instances"] == 1


def test_runs_are_recorded_and_a_failing_source_is_visible(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    archive_server.mounts["/pipermail/reality/"] = corpus / "pipermail/twisted/reality"
    archive_server.listings.add("/pipermail/reality/")
    _add(data, "reality", "--pipermail", archive_server.url("/pipermail/reality/"))
    _add(data, "broken", "--pipermail", archive_server.url("/pipermail/broken/"))
    archive_server.faults["/pipermail/broken/"] = "500"
    runner = CliRunner(env={"LISTARCHIVE_SYNC_RETRIES": "0"})
    for _ in range(2):
        result = runner.invoke(cli, ["--data-dir", str(data), "scheduler", "--once"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--data-dir", str(data), "runs", "--json"])
    payload = json.loads(result.stdout)
    statuses = [(r["list"], r["status"]) for r in payload["runs"]]
    assert statuses.count(("broken", "error")) == 2
    assert statuses.count(("reality", "ok")) == 2
    health = {h["list"]: h for h in payload["lists"]}
    assert health["broken"]["consecutive_failures"] == 2
    assert "HTTP 500" in health["broken"]["last_error"]
    assert health["reality"]["consecutive_failures"] == 0
    text = runner.invoke(cli, ["--data-dir", str(data), "runs"]).stdout
    assert "FAILING: broken: 2 runs in a row" in text
    conn = sqlite3.connect(data / "store.db")
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] > 100


def test_two_schedulers_at_once_ingest_each_message_once(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    for name in ("twisted-web", "reality"):
        prefix = f"/pipermail/{name}/"
        archive_server.mounts[prefix] = corpus / "pipermail/twisted" / name
        archive_server.listings.add(prefix)
        _add(data, name, "--pipermail", archive_server.url(prefix))
    command = [
        sys.executable,
        "-m",
        "listarchive.cli",
        "--data-dir",
        str(data),
        "scheduler",
        "--once",
    ]
    env = {**os.environ, "LISTARCHIVE_SYNC_WORKERS": "2"}
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
    conn = sqlite3.connect(data / "store.db")
    summaries = [
        json.loads(row[0]) for row in conn.execute("SELECT summary FROM runs WHERE status = 'ok'")
    ]
    stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    members = conn.execute("SELECT count(*) FROM memberships").fetchone()[0]
    assert stored == members > 5000
    # every message was ingested by exactly one run; the other saw it unchanged or was skipped
    assert sum(s["new_messages"] for s in summaries) == stored
    assert sum(s["duplicates"] for s in summaries) == 0


def test_a_scheduled_job_on_a_full_disk_logs_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A job meeting a full disk (or a damaged store) says so in one line, without a
    traceback, and the scheduler goes on."""
    import threading

    from listarchive import scheduler

    settings = load_settings(env={}, overrides={"data_dir": tmp_path / "data"})

    def full(*_args: object, **_kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(scheduler, "_run_job", full)
    with caplog.at_level("ERROR", logger="listarchive.scheduler"):
        scheduler.run_job(settings, "somelist", threading.Event())
    [record] = caplog.records
    assert "is full" in record.getMessage() and "somelist" in record.getMessage()
    assert record.exc_info is None
