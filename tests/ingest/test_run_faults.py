"""Faults during a run: a parser worker that dies, a sync killed outright, a full disk, a run
over its deadline.  Each ends with a recorded status and a clear line, and the next list or
the next run goes on."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ingest import sync
from ingest.sources.base import Volume
from listarchive import app
from listarchive.cli import cli
from store.files import PAGE_SIZE
from store.store import Store
from tests.support import bombs
from tests.support.archive_server import ArchiveServer

_REAL_PARSE = sync.parse_volume


def _die_on_april(kind: str, volume: Volume, *args: Any, **kwargs: Any) -> Any:
    """Stands in for the parser in the worker: the OOM killer ends it on one volume."""
    if volume.name == "2008-April":
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_PARSE(kind, volume, *args, **kwargs)


def _run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def _runs(data_dir: Path) -> list[dict[str, Any]]:
    code, out = _run(data_dir, "runs", "--json")
    assert code == 0, out
    runs: list[dict[str, Any]] = json.loads(out)["runs"]
    return runs


def _three_volumes(server: ArchiveServer, name: str, first: int) -> str:
    return bombs.serve_list(
        server,
        name,
        {
            "2008-March": bombs.gz(bombs.mbox(first, first + 1)),
            "2008-April": bombs.gz(bombs.mbox(first + 2)),
            "2008-May": bombs.gz(bombs.mbox(first + 3, first + 4)),
        },
    )


def test_a_dead_parser_worker_fails_one_volume_and_the_run_goes_on(
    archive_server: ArchiveServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, first in (("a-list", 1), ("b-list", 10)):
        url = _three_volumes(archive_server, name, first)
        assert _run(data_dir, "lists", "add", name, "--pipermail", url)[0] == 0
    monkeypatch.setattr(sync, "parse_volume", _die_on_april)
    code, out = _run(data_dir, "sync", "--json", "--workers", "2")
    assert code == 1, out
    runs = {run["list_name"]: run for run in json.loads(out)["runs"]}
    for name in ("a-list", "b-list"):
        assert runs[name]["volumes_fetched"] == 2
        assert runs[name]["new_messages"] == 4
        [failure] = runs[name]["failures"]
        assert failure["volume"] == "2008-April"
        assert failure["error"].startswith("parser worker died")
    assert {run["status"] for run in _runs(data_dir)} == {"partial"}
    monkeypatch.setattr(sync, "parse_volume", _REAL_PARSE)
    code, out = _run(data_dir, "sync", "--json", "--workers", "2")
    assert code == 0, out
    assert sum(run["new_messages"] for run in json.loads(out)["runs"]) == 2


def test_a_run_left_running_by_a_killed_sync_is_marked_on_the_next_start(
    archive_server: ArchiveServer, data_dir: Path
) -> None:
    url = _three_volumes(archive_server, "slow", 1)
    # 3 s per request (the .txt.gz: plain .txt twins are probed once per list, not per volume)
    archive_server.faults["/pipermail/slow/2008-April.txt.gz"] = "timeout"
    assert _run(data_dir, "lists", "add", "slow", "--pipermail", url)[0] == 0
    command = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir), "sync"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while archive_server.requests["/pipermail/slow/2008-April.txt.gz"] == 0:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(data_dir / "store.db")
    assert conn.execute("SELECT status FROM runs").fetchall() == [("running",)]
    [killed] = _runs(data_dir)  # `runs` already tells the truth
    assert killed["status"] == "abandoned"
    assert killed["finished_at"]
    assert f":{proc.pid}" in killed["error"] and "ended without finishing" in killed["error"]
    del archive_server.faults["/pipermail/slow/2008-April.txt.gz"]
    code, out = _run(data_dir, "sync")
    assert code == 0, out
    assert [run["status"] for run in _runs(data_dir)] == ["ok", "abandoned"]
    code, out = _run(data_dir, "runs")
    assert "abandoned" in out and "ended without finishing" in out


def test_a_run_left_running_under_a_free_lock_is_abandoned_on_the_next_sync(
    data_dir: Path, tmp_path: Path
) -> None:
    """Runs recorded before owners were (no pid to check): the list's lock decides."""
    path = tmp_path / "a.mbox"
    path.write_bytes(bombs.mbox(1))
    assert _run(data_dir, "lists", "add", "m", "--mbox", str(path))[0] == 0
    conn = sqlite3.connect(data_dir / "store.db")
    conn.execute(
        "INSERT INTO runs (list, started_at, status) VALUES (1, '2020-01-01T00:00:00+00:00', "
        "'running')"
    )
    conn.commit()
    assert _run(data_dir, "sync")[0] == 0
    assert [run["status"] for run in _runs(data_dir)] == ["ok", "abandoned"]


def _limit_pages(extra: int) -> Any:
    real = app.open_store

    def open_store(settings: Any) -> Store:
        store = real(settings)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages + extra}")
        return store

    return open_store


PONYMAIL = ("ponymail-dev-1079-mboxvm.mbox", "httpd-users-2020-07.mbox.gz")


def test_a_full_disk_says_so_and_records_the_run_as_failed(
    corpus: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [str(corpus / "mbox/apache-ponymail" / name) for name in PONYMAIL]
    assert _run(data_dir, "lists", "add", "pony", "--mbox", *files)[0] == 0
    monkeypatch.setattr(app, "open_store", _limit_pages(4))
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "sync"])
    assert isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 3
    store_path = data_dir / "store.db"
    assert f"the disk holding {store_path} is full: free space and run sync again" in (
        result.output
    )
    assert "Traceback" not in result.output and "rollback" not in result.output
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    [[status, summary]] = conn.execute("SELECT status, summary FROM runs").fetchall()
    assert status == "failed"
    assert "is full" in json.loads(summary)["error"]
    conn.close()
    monkeypatch.undo()
    code, out = _run(data_dir, "sync", "--json")
    assert code == 0, out
    assert json.loads(out)["runs"][0]["new_messages"] > 0
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_full_disk_met_by_another_command_says_so(
    corpus: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`runs` writes too (it marks runs whose process is gone): on a full disk it says so and
    exits 3 like `sync`, never with a traceback."""
    files = [str(corpus / "mbox/apache-ponymail" / PONYMAIL[0])]
    assert _run(data_dir, "lists", "add", "pony", "--mbox", *files)[0] == 0
    store = Store(data_dir / "store.db")
    owner = f"{socket.gethostname()}:{_dead_pid()}"
    with store.transaction() as conn:  # runs left behind by a process that is gone, each
        for _ in range(20):  # filling a page, so that recording their end needs new pages
            conn.execute(
                "INSERT INTO runs (list, started_at, status, summary) VALUES "
                "((SELECT id FROM lists), '2026-01-01T00:00:00+00:00', 'running', ?)",
                (json.dumps({"owner": owner, "pad": "x" * (PAGE_SIZE - 300)}),),
            )
    store.close()
    monkeypatch.setattr(app, "open_store", _limit_pages(0))
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "runs"])
    assert result.exit_code == 3, result.output
    assert "is full: free space and run the command again" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)


def test_run_deadline_leaves_the_remaining_volumes_for_the_next_run(
    archive_server: ArchiveServer, data_dir: Path
) -> None:
    url = _three_volumes(archive_server, "dl", 1)
    assert _run(data_dir, "lists", "add", "dl", "--pipermail", url)[0] == 0
    # every request for the first volume takes 3 s (answered in the end): over the deadline
    archive_server.faults["/pipermail/dl/2008-March.txt.gz"] = "timeout"
    env = {"LISTARCHIVE_SYNC_RUN_DEADLINE": "1"}
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 1, out
    [run] = json.loads(out)["runs"]
    assert run["volumes_fetched"] == 1  # every run makes progress: one volume at least
    assert run["deadline"] == "run deadline of 1 s reached; 2 volumes left for the next run"
    assert _runs(data_dir)[0]["status"] == "partial"
    code, out = _run(data_dir, "sync", "dl", env=env)
    assert "run deadline of 1 s reached; 1 volume left for the next run" in out
    code, out = _run(data_dir, "sync", "--json")
    assert code == 0, out
    assert json.loads(out)["runs"][0]["new_messages"] == 2  # May
