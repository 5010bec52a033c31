"""Killing `sync` mid-run and starting it again ends with the same store as one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.archive_server import ArchiveServer
from tests.support.storedump import dump_store, stored_volumes

LIST_PATH = "/pipermail/twisted-web/"


def _cli(data_dir: Path, *args: str, capture: bool = True) -> subprocess.Popen[bytes]:
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir), *args],
        stdout=output,
        stderr=output,
        env={**os.environ, "LISTARCHIVE_SYNC_WORKERS": "2"},
    )


def _processes_of(data_dir: Path) -> list[int]:
    """Live processes whose command line names `data_dir` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if str(data_dir).encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _run(data_dir: Path, *args: str) -> None:
    proc = _cli(data_dir, *args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out + err).decode()


def test_killed_sync_resumes_to_identical_store(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    archive_server.mounts[LIST_PATH] = corpus / "pipermail/twisted/twisted-web"
    url = archive_server.url(LIST_PATH)

    clean = tmp_path / "clean"
    _run(clean, "lists", "add", "twisted-web", "--pipermail", url)
    _run(clean, "sync")

    killed = tmp_path / "killed"
    _run(killed, "lists", "add", "twisted-web", "--pipermail", url)
    proc = _cli(killed, "sync", capture=False)
    deadline = time.monotonic() + 120
    while stored_volumes(killed / "store.db") < 40 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert proc.poll() is None, "sync finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # its parser workers end with it (they are told to die with their parent)
    while _processes_of(killed) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_of(killed) == []
    partial = stored_volumes(killed / "store.db")
    assert 0 < partial < 163

    _run(killed, "sync")
    assert dump_store(killed / "store.db") == dump_store(clean / "store.db")
    assert _search(clean, "nevow") == _search(killed, "nevow")


def _search(data_dir: Path, query: str) -> bytes:
    command = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir)]
    result = subprocess.run(
        [*command, "search", query, "--json", "--limit", "5"], capture_output=True, check=True
    )
    return result.stdout
