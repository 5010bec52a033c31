"""The scheduler over many lists: the declared lists are applied once, not per job; first runs
are spread over the interval; lists added or removed while it runs are followed."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

from config.settings import Settings, load_settings
from listarchive import app
from listarchive.cli import cli
from listarchive.scheduler import ListJobs, build, run_once
from store.records import ListInfo
from store.store import Store

BOX = "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
OTHER_BOX = "mbox/apache-ponymail/ponymail-dev-1080-mboxvm.mbox"


def _settings(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> Settings:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "la.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n{body}')
    return load_settings(config, env=env or {})


def _declared(corpus: Path, names: list[str], extra: str = "") -> str:
    return "".join(f'[lists.{n}]\nmbox = ["{corpus / BOX}"]\n{extra}' for n in names)


def test_a_pass_reads_the_lists_a_fixed_number_of_times(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each job reads its own list, and the declared lists are applied once per pass: the
    `Store.lists()` calls of a pass do not grow with the number of lists (they grew with its
    square: every job re-applied every declared list)."""
    calls = 0
    original = Store.lists

    def counted(store: Store) -> list[ListInfo]:
        nonlocal calls
        calls += 1
        return original(store)

    monkeypatch.setattr(Store, "lists", counted)
    first_pass, nothing_new = {}, {}
    for count in (2, 8):
        names = [f"list{i}" for i in range(count)]
        settings = _settings(tmp_path / str(count), _declared(corpus, names))
        settings.data_dir.mkdir()
        calls = 0
        run_once(settings)
        first_pass[count] = calls
        store = Store(settings.store_path)
        try:
            assert all(info.last_sync for info in original(store)), "every list was synced"
        finally:
            store.close()
        calls = 0
        run_once(settings)
        nothing_new[count] = calls
    # at most one per job (the search index reads them when it has messages to index)
    assert first_pass[8] <= 8 + 2, first_pass
    assert nothing_new[8] == nothing_new[2], nothing_new


@contextmanager
def _started(scheduler: BaseScheduler, *, paused: bool) -> Iterator[None]:
    thread = threading.Thread(target=scheduler.start, kwargs={"paused": paused}, daemon=True)
    thread.start()
    _wait(lambda: scheduler.state != STATE_STOPPED, "the scheduler to start")
    try:
        yield
    finally:
        scheduler.shutdown(wait=True)
        thread.join(30)


def _wait(condition: Callable[[], object], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _next_runs(settings: Settings) -> dict[str, datetime]:
    scheduler = build(settings, threading.Event())
    with _started(scheduler, paused=True):
        return {
            job.id.removeprefix("sync:"): job.next_run_time
            for job in scheduler.get_jobs()
            if job.id.startswith("sync:")
        }


def test_first_runs_are_spread_over_the_interval(corpus: Path, tmp_path: Path) -> None:
    names = [f"list{i:02d}" for i in range(40)]
    body = '[scheduler]\ninterval = "1h"\n' + _declared(corpus, names)
    body += _declared(corpus, ["fresh"]) + _declared(
        corpus, ["nightly"], 'schedule = "cron: 0 3 * * *"\n'
    )
    settings = _settings(tmp_path, body)
    settings.data_dir.mkdir()
    store = app.open_store(settings)
    try:
        for info in store.lists():
            if info.name != "fresh":  # synced before: no need to run at start-up
                store.mark_synced(info.id)
    finally:
        store.close()

    before = datetime.now(UTC)
    runs = _next_runs(settings)
    after = datetime.now(UTC)
    assert set(runs) == {*names, "fresh", "nightly"}
    assert runs["fresh"] <= after  # never synced: at once
    nightly = runs["nightly"]
    assert (nightly.hour, nightly.minute, nightly.second) == (3, 0, 0)  # its cron time
    assert before < nightly <= after + timedelta(days=1)
    spread = [runs[n] for n in names]
    assert all(before < t <= after + timedelta(hours=1) for t in spread), "within one interval"
    # at a fixed offset in the hour per list (a hash of its name), spread out
    offsets = [int(t.timestamp()) % 3600 for t in spread]
    assert len(set(offsets)) > len(names) * 0.9
    bins = [sum(1 for o in offsets if o // 360 == b) for b in range(10)]
    assert max(bins) <= 12, bins
    assert sum(1 for b in bins if b) >= 7, bins
    # deterministic: the same offsets at the next start
    again = _next_runs(settings)
    assert offsets == [int(again[n].timestamp()) % 3600 for n in names]

    off = _settings(tmp_path / "off", body, env={"LISTARCHIVE_SCHEDULER_SPREAD": "false"})
    off.data_dir.mkdir()
    assert all(t <= datetime.now(UTC) for t in _next_runs(off).values()), "all at start-up"


def _ok_runs(data: Path, name: str) -> int:
    conn = sqlite3.connect(data / "store.db")
    try:
        row = conn.execute(
            "SELECT count(*) FROM runs r JOIN lists l ON l.id = r.list "
            "WHERE l.name = ? AND r.status = 'ok'",
            (name,),
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


def test_lists_added_and_removed_while_running_are_followed(corpus: Path, tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, _declared(corpus, ["first"]), env={"LISTARCHIVE_SCHEDULER_REFRESH": "1s"}
    )
    data = settings.data_dir
    data.mkdir()
    stop = threading.Event()
    scheduler = build(settings, stop)
    with _started(scheduler, paused=False):
        _wait(lambda: _ok_runs(data, "first") == 1, "the first list's first run")
        result = CliRunner().invoke(
            cli,
            ["--data-dir", str(data), "lists", "add", "later", "--mbox", str(corpus / OTHER_BOX)],
        )
        assert result.exit_code == 0, result.output
        _wait(lambda: scheduler.get_job("sync:later") is not None, "a job for the added list")
        _wait(lambda: _ok_runs(data, "later") == 1, "the added list's first run")
        store = Store(settings.store_path)
        try:
            assert store.get_list("later").messages > 0
        finally:
            store.close()

        # a list gone from the store (by hand here: there is no `lists remove`) loses its job
        conn = sqlite3.connect(data / "store.db")
        with conn:
            conn.execute("DELETE FROM lists WHERE name = 'later'")
        conn.close()
        _wait(lambda: scheduler.get_job("sync:later") is None, "the removed list's job to go")
        assert scheduler.get_job("sync:first") is not None

        # a list declared in the settings file once it changed: applied, scheduled, synced
        assert settings.config_file is not None
        with settings.config_file.open("a") as fh:
            fh.write(_declared(corpus, ["declared"], 'schedule = "cron: 0 3 * * *"\n'))
        _wait(lambda: scheduler.get_job("sync:declared") is not None, "the declared list's job")
        _wait(lambda: _ok_runs(data, "declared") == 1, "the declared list's first run")
        assert "cron" in scheduler.get_job("sync:declared").name
        stop.set()


def test_a_changed_settings_file_is_applied_and_a_broken_one_ignored(
    corpus: Path, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, _declared(corpus, ["a"]))
    settings.data_dir.mkdir()
    assert settings.config_file is not None
    scheduler = BlockingScheduler(timezone=UTC)
    jobs = ListJobs(settings, threading.Event(), scheduler)
    jobs.start()
    try:
        assert [j.id for j in scheduler.get_jobs()] == ["sync:a"]
        text = settings.config_file.read_text()
        settings.config_file.write_text(text + "[lists.broken\n")
        jobs.refresh()  # logged, not applied; the jobs stay
        assert [j.id for j in scheduler.get_jobs()] == ["sync:a"]
        settings.config_file.write_text(
            text.replace(f'"{corpus / BOX}"]\n', f'"{corpus / BOX}"]\nschedule = "30m"\n')
            + _declared(corpus, ["b"])
        )
        jobs.refresh()
        found = {j.id: j for j in scheduler.get_jobs()}
        assert set(found) == {"sync:a", "sync:b"}
        trigger = found["sync:a"].trigger
        assert isinstance(trigger, IntervalTrigger) and trigger.interval == timedelta(minutes=30)
        assert jobs.settings.lists[0].schedule == "30m"
    finally:
        jobs.close()
