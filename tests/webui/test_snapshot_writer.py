"""A frame snapshot is written after the web request that loaded its frame, by the
process's writer thread (`analytics.frame_snapshot_writer`, issue 14, task PR), never inside
the request; a write that finds the writer's queue full is dropped; the scheduler's
preparation writes its snapshots as it goes (in its own thread, done when it returns)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import has_request_context

from analytics import frame, frame_snapshot, frame_snapshot_writer
from store import frame_snapshots
from tests.webui.test_frame_snapshots import _app, _fresh, _no_sql, _rows
from webui import stats_prepare

WRITER = "frame-snapshot-writer"
CHILD_SECONDS = 30
"""A forked child that has not exited by then is killed (SIGALRM): a hang fails the test."""


@pytest.fixture()
def data(webui_data: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "data"
    shutil.copytree(webui_data, copy)
    limits = dict(frame_snapshot.LIMITS)
    allowed = list(frame_snapshot._ALLOWED)
    frame_snapshot.configure(0, 64 * 2**20)  # every frame, however small
    _fresh()
    yield copy
    frame_snapshot_writer.wait()
    frame_snapshot.configure(limits["min_posts"], limits["max_bytes"])
    frame_snapshot._ALLOWED[:] = allowed
    _fresh()


@pytest.fixture()
def puts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, str, bool]]:
    """Each snapshot write: (inside a request, the writing thread's name, kept)."""
    found: list[tuple[bool, str, bool]] = []
    real = frame_snapshots.put

    def recorded(*args: Any) -> bool:
        kept = real(*args)
        found.append((has_request_context(), threading.current_thread().name, kept))
        return kept

    monkeypatch.setattr(frame_snapshots, "put", recorded)
    return found


def test_the_request_that_loads_a_frame_does_not_write_its_snapshot(
    data: Path, puts: list[tuple[bool, str, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(data, cache=False, snapshots=True)
    expected = app.test_client().get("/stats.json?scope=all")
    assert expected.status_code == 200
    frame_snapshot_writer.wait()
    assert puts == [(False, WRITER, True)]  # after the request, by the writer thread
    assert [k for k, _s, _n in _rows(data)] == ["lists=1;private=0;hidden=divunal-author"]
    _fresh()
    with monkeypatch.context() as patched:  # a fresh worker reads it back: the same answer
        _no_sql(patched)
        again = _app(data, cache=False, snapshots=True).test_client().get("/stats.json?scope=all")
    assert again.get_json() == expected.get_json()


def _appending(ran: list[str], name: str) -> frame_snapshot_writer.Job:
    def job() -> bool:
        ran.append(name)
        return True

    return job


def test_a_write_finding_the_queue_full_is_dropped() -> None:
    busy, done = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocking() -> bool:
        busy.set()
        done.wait(10)
        ran.append("first")
        return True

    frame_snapshot_writer.hold()
    frame_snapshot_writer.submit(blocking)
    frame_snapshot_writer.release()
    assert busy.wait(10)  # the writer thread writes the first
    frame_snapshot_writer.hold()
    for name in ("second", "third"):  # one waits in the queue, the other has no room
        frame_snapshot_writer.submit(_appending(ran, name))
    assert ran == []  # held until the request ends
    frame_snapshot_writer.release()
    done.set()
    frame_snapshot_writer.wait()
    assert ran == ["first", "second"]


def test_a_failing_write_is_logged_and_the_writer_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def failing() -> bool:
        raise sqlite3.DatabaseError("disk image is malformed")

    ran: list[str] = []
    for job in (failing, _appending(ran, "next")):
        frame_snapshot_writer.hold()
        frame_snapshot_writer.submit(job)
        frame_snapshot_writer.release()
        waiting = threading.Thread(target=frame_snapshot_writer.wait, daemon=True)
        waiting.start()
        waiting.join(CHILD_SECONDS)  # a writer thread killed by the failure: never done
        assert not waiting.is_alive()
    assert ran == ["next"]  # the same thread wrote the next one
    failed = [r for r in caplog.records if r.getMessage() == "frame snapshot not kept"]
    assert len(failed) == 1 and failed[0].exc_info is not None


def test_outside_a_request_a_write_is_done_at_once() -> None:
    ran: list[str] = []
    assert frame_snapshot_writer.submit(_appending(ran, "now"))
    assert ran == ["now"]
    assert not frame_snapshot_writer.submit(lambda: False)  # not kept: said so


def test_the_preparation_writes_its_snapshots_as_it_goes(
    data: Path, puts: list[tuple[bool, str, bool]]
) -> None:
    stats_prepare.prepare(_app(data, cache=True))
    assert puts and all(not name.startswith(WRITER) for _inside, name, _kept in puts)
    assert [k for k, _s, _n in _rows(data)] == [  # every list, anonymous and facilitator
        "lists=1;private=0;hidden=divunal-author",
        "lists=2,1;private=1;hidden=",
    ]
    frame.clear_cache()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_worker_starts_its_own_writer() -> None:
    ran: list[str] = []
    frame_snapshot_writer.hold()
    frame_snapshot_writer.submit(_appending(ran, "parent"))
    frame_snapshot_writer.release()
    frame_snapshot_writer.wait()  # the parent's writer thread exists
    assert ran == ["parent"]
    child = os.fork()
    if child == 0:  # a gunicorn worker: its writes are written by a thread of its own
        code = 1
        try:
            signal.alarm(CHILD_SECONDS)  # a child that hangs fails the test, not the suite
            frame_snapshot_writer.hold()
            frame_snapshot_writer.submit(_appending(ran, "child"))
            frame_snapshot_writer.release()
            frame_snapshot_writer.wait()
            code = 0 if ran == ["parent", "child"] else 2
        finally:
            os._exit(code)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_fork_while_another_thread_holds_the_writers_lock() -> None:
    """A gunicorn worker forked while a thread of its parent holds the writer's lock: the
    child's lock is not held (`_after_fork`), so its first write does not wait forever."""
    held, go = threading.Event(), threading.Event()

    def holder() -> None:
        with frame_snapshot_writer._LOCK:
            held.set()
            go.wait(CHILD_SECONDS)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        child = os.fork()
        if child == 0:
            code = 1
            try:
                signal.alarm(CHILD_SECONDS)  # the lock never released: killed, not hung
                ran: list[str] = []
                frame_snapshot_writer.hold()
                frame_snapshot_writer.submit(_appending(ran, "child"))
                frame_snapshot_writer.release()
                frame_snapshot_writer.wait()
                code = 0 if ran == ["child"] else 2
            finally:
                os._exit(code)
    finally:
        go.set()
        thread.join()
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
