"""The scheduler's `prepare` job (issue 14, task PR2): a change made without a sync (a merge
through the store, as the web UI makes it) leaves a state with nothing prepared, and the job
prepares it; a state already prepared (by the job, or by a sync's own preparation) costs one
read and no preparation; never while another preparation runs in the process; a failure is
one log line; a store below `analytics.snapshot_min_posts` is left to its first visitor."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.settings import Settings, load_settings
from listarchive import preparing
from listarchive.cli import cli
from listarchive.scheduler import PREPARE_JOB, build, prepare_job
from store import figure_cache, merges

FIRST = "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
SECOND = "mbox/apache-ponymail-foal/dev_ponymail_apache_org_2020-10.mbox"


def _settings(data: Path, min_posts: int = 1, every: int = 60) -> Settings:
    return load_settings(
        env={
            "LISTARCHIVE_DATA_DIR": str(data),
            "LISTARCHIVE_ANALYTICS_SNAPSHOT_MIN_POSTS": str(min_posts),
            "LISTARCHIVE_SCHEDULER_PREPARE_EVERY": str(every),
        }
    )


def _run(data: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    assert result.exit_code == 0, result.output


@pytest.fixture
def data(corpus: Path, tmp_path: Path) -> Path:
    path = tmp_path / "data"
    _run(path, "lists", "add", "dev", "--mbox", str(corpus / FIRST), "--mbox", str(corpus / SECOND))
    _run(path, "sync", "--no-prepare")  # two senders, nothing prepared
    return path


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The preparations run (the real one, counted)."""
    from webui import stats_prepare

    real = stats_prepare.prepare
    found: list[int] = []

    def counted(app: Any) -> int:
        found.append(1)
        return real(app)

    monkeypatch.setattr(stats_prepare, "prepare", counted)
    return found


def _conn(data: Path) -> sqlite3.Connection:
    return sqlite3.connect(data / "store.db")


def _kept(data: Path) -> tuple[set[str], str, bool]:
    """The states of the kept figures, the store's state, and whether it has the mark."""
    conn = _conn(data)
    try:
        states = {str(r[0]) for r in conn.execute("SELECT state FROM figure_cache")}
        current = figure_cache.state(conn)
        return states, current, figure_cache.get(conn, preparing.MARK, current) is not None
    finally:
        conn.close()


def _merge(data: Path) -> None:
    """The two senders merged through the store's API (as the web UI's merge does)."""
    conn = _conn(data)
    try:
        keys = [str(r[0]) for r in conn.execute("SELECT key FROM persons ORDER BY id")]
        assert len(keys) == 2, keys
        merges.merge(conn, keys[0], keys[1:], "web:test")
    finally:
        conn.close()


def test_the_job_prepares_a_changed_state_once(data: Path, calls: list[int]) -> None:
    settings = _settings(data)
    prepare_job(settings)  # nothing prepared yet: the state has no mark
    assert len(calls) == 1
    states, prepared_state, marked = _kept(data)
    assert marked and states == {prepared_state}
    prepare_job(settings)  # the same state: nothing
    prepare_job(settings)
    assert len(calls) == 1
    _merge(data)  # the persons version changes: the figures kept are of an older state
    states, current, marked = _kept(data)
    assert current != prepared_state and not marked
    prepare_job(settings)
    assert len(calls) == 2
    states, now, marked = _kept(data)
    assert now == current and marked and states == {current}
    prepare_job(settings)
    assert len(calls) == 2


def test_a_state_a_sync_prepared_is_not_prepared_again(
    data: Path, calls: list[int], corpus: Path
) -> None:
    other = corpus / "mbox/perceval-testdata/mbox_single.mbox"
    _run(data, "lists", "add", "other", "--mbox", str(other))
    env = {"LISTARCHIVE_ANALYTICS_SNAPSHOT_MIN_POSTS": "1"}
    result = CliRunner(env=env).invoke(cli, ["--data-dir", str(data), "sync", "other"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1 and _kept(data)[2]  # the sync prepared and left its mark
    prepare_job(_settings(data))
    assert len(calls) == 1


def test_a_small_store_is_left_to_its_first_visitor(data: Path, calls: list[int]) -> None:
    prepare_job(_settings(data, min_posts=1000))
    _merge(data)
    prepare_job(_settings(data, min_posts=1000))
    assert calls == [] and not _kept(data)[2]


def test_never_while_another_preparation_runs(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from webui import stats_prepare

    started, release = threading.Event(), threading.Event()
    found: list[int] = []

    def slow(_app: Any) -> int:
        found.append(1)
        started.set()
        release.wait(30)
        return 0

    monkeypatch.setattr(stats_prepare, "prepare", slow)
    settings = _settings(data)
    first = threading.Thread(target=preparing.prepare_statistics, args=[settings])
    first.start()  # a sync's preparation, say
    try:
        assert started.wait(30)
        prepare_job(settings)  # the lock is held: the job does nothing, not even wait
        assert found == [1]
    finally:
        release.set()
        first.join(30)
    assert found == [1]  # and asked for no second round


def test_a_failure_is_one_log_line(
    data: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from webui import stats_prepare

    def broken(_app: Any) -> int:
        raise RuntimeError("no figures today")

    monkeypatch.setattr(stats_prepare, "prepare", broken)
    with caplog.at_level(logging.INFO):
        prepare_job(_settings(data))  # never raises
    failed = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in failed] == ["statistics not prepared: no figures today"]
    assert not failed[0].exc_info  # no traceback
    assert not _kept(data)[2]  # no mark: the next look tries again


def test_a_store_that_cannot_be_read_is_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        prepare_job(_settings(tmp_path / "nothing"))
    failed = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failed) == 1 and "statistics not prepared" in failed[0].getMessage()


def test_the_job_is_scheduled_at_its_setting(data: Path) -> None:
    scheduler = build(_settings(data, every=45), threading.Event())
    job = scheduler.get_job(PREPARE_JOB)
    assert job is not None and job.trigger.interval.total_seconds() == 45
    assert build(_settings(data, every=0), threading.Event()).get_job(PREPARE_JOB) is None


def test_never_while_another_process_prepares(data: Path, calls: list[int]) -> None:
    from store import locks

    conn = sqlite3.connect(data / "store.db", isolation_level=None)
    try:
        assert locks.acquire(conn, preparing.LOCK, "elsewhere:1")  # another host's process
        prepare_job(_settings(data))
        assert calls == [] and not _kept(data)[2]
        locks.release(conn, preparing.LOCK, "elsewhere:1")
    finally:
        conn.close()
    prepare_job(_settings(data))
    assert calls == [1] and _kept(data)[2]
    conn = sqlite3.connect(data / "store.db")
    try:  # released after the preparation
        assert locks.holder(conn, preparing.LOCK) is None
    finally:
        conn.close()
