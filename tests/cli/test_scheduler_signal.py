"""SIGTERM stops the scheduler cleanly: whole volumes only, the run recorded as interrupted,
and the next run finishes the job."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli
from tests.support.archive_server import ArchiveServer
from tests.support.storedump import stored_volumes

PREFIX = "/pipermail/twisted-web/"


def test_sigterm_finishes_the_current_volumes_and_exits(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    archive_server.mounts[PREFIX] = corpus / "pipermail/twisted/twisted-web"
    data = tmp_path / "data"
    base = ["--data-dir", str(data)]
    url = archive_server.url(PREFIX)
    assert CliRunner().invoke(cli, [*base, "lists", "add", "tw", "--pipermail", url]).exit_code == 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "listarchive.cli", *base, "scheduler"],
        env={**os.environ, "LISTARCHIVE_SYNC_WORKERS": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while stored_volumes(data / "store.db") < 20:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]

    conn = sqlite3.connect(data / "store.db")
    ((status, summary),) = conn.execute("SELECT status, summary FROM runs").fetchall()
    assert status == "interrupted"
    done = stored_volumes(data / "store.db")
    assert 20 <= done < 163
    assert json.loads(summary)["volumes_fetched"] == done
    # whole volumes only: every stored volume's messages are all there
    for name, count in conn.execute("SELECT name, message_count FROM volumes"):
        pieces = conn.execute(
            "SELECT count(*) FROM memberships WHERE origin = ?", (name,)
        ).fetchone()[0]
        assert 0 < pieces <= count
    conn.close()

    result = CliRunner().invoke(cli, [*base, "scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert stored_volumes(data / "store.db") == 163
