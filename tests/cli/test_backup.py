"""`listarchive backup PATH`: consistent copies of the store taken while a sync writes it in
another process, and the README's restore procedure (copy back, reindex, check)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from listarchive.cli import cli

LIST = "twisted-web"


def _invoke(data: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def _messages(store: Path) -> int:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def _check_copy(path: Path) -> int:
    """The copy is sound and holds whole volumes only; returns its message count."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        orphans = conn.execute(
            "SELECT count(*) FROM messages WHERE id NOT IN (SELECT message FROM memberships)"
        ).fetchone()
        assert orphans == (0,)
        # every membership comes from a volume the copy records as stored, and no volume
        # has more messages than it said it held: no half volume
        unrecorded = conn.execute(
            "SELECT count(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM volumes v "
            "WHERE v.list = m.list AND v.name = m.origin)"
        ).fetchone()
        assert unrecorded == (0,)
        overfull = conn.execute(
            "SELECT count(*) FROM volumes v WHERE v.message_count < (SELECT count(*) FROM "
            "memberships m WHERE m.list = v.list AND m.origin = v.name)"
        ).fetchone()
        assert overfull == (0,)
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


def test_backups_while_a_sync_writes_are_consistent(corpus: Path, tmp_path: Path) -> None:
    data, copies = tmp_path / "data", tmp_path / "backups"
    copies.mkdir()
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted" / LIST).glob("*.txt.gz"))]
    assert _invoke(data, "lists", "add", LIST, "--mbox", *volumes)[0] == 0
    sync = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "listarchive.cli",
            "--data-dir",
            str(data),
            "sync",
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    taken_during_sync: list[tuple[Path, dict[str, Any]]] = []
    try:
        deadline = time.monotonic() + 60
        while _messages(data / "store.db") == 0 and sync.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        while sync.poll() is None and len(taken_during_sync) < 5:
            target = copies / f"during-{len(taken_during_sync)}.db"
            code, output = _invoke(data, "backup", "--json", str(target))
            assert code == 0, output
            summary = json.loads(output)
            if sync.poll() is None:  # the sync was still writing when the copy was done
                taken_during_sync.append((target, summary))
            time.sleep(0.2)
        _, errors = sync.communicate(timeout=120)
        assert sync.returncode == 0, errors.decode()
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
    assert taken_during_sync, "the sync ended before a backup was taken"
    final = _messages(data / "store.db")
    for target, summary in taken_during_sync:
        held = _check_copy(target)
        assert summary["path"] == str(target) and summary["messages"] == held
        assert summary["bytes"] == target.stat().st_size
        assert 0 < held <= final
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(copies.glob(".*"))  # no partial file left behind


def test_restore_as_the_readme_says(corpus: Path, tmp_path: Path) -> None:
    data, copies = tmp_path / "data", tmp_path / "backups"
    copies.mkdir()
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted/reality").glob("*.txt.gz"))]
    assert _invoke(data, "lists", "add", "reality", "--mbox", *volumes)[0] == 0
    assert _invoke(data, "sync")[0] == 0
    code, output = _invoke(data, "search", "--json", "--limit", "1000", "twisted")
    assert code == 0, output
    found = json.loads(output)
    assert found["total"] > 0

    code, output = _invoke(data, "backup", "--json", str(copies))  # a directory: dated name
    assert code == 0, output
    backup = Path(json.loads(output)["path"])
    assert backup.parent == copies and backup.name.startswith("store-")

    # disaster: the data directory is lost; restore = copy store.db back (no -wal/-shm of
    # the lost store beside it), rebuild the search index, check
    shutil.rmtree(data)
    data.mkdir(mode=0o700)
    shutil.copyfile(backup, data / "store.db")
    (data / "store.db").chmod(0o600)
    code, output = _invoke(data, "reindex")
    assert code == 0, output
    assert f"reindexed {_messages(data / 'store.db')} messages" in output
    code, output = _invoke(data, "search", "--json", "--limit", "1000", "twisted")
    assert code == 0, output
    again = json.loads(output)
    assert again["total"] == found["total"]
    assert {h["id"] for h in again["hits"]} == {h["id"] for h in found["hits"]}
    code, output = _invoke(data, "check")
    assert code == 0, output


def test_backup_refusals(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, output = _invoke(data, "backup", str(tmp_path / "copy.db"))
    assert code == 1 and "no store at" in output
    assert _invoke(data, "lists")[0] == 0  # creates the store
    code, output = _invoke(data, "backup", str(data / "store.db"))
    assert code == 1 and "is the store itself" in output
    code, output = _invoke(data, "backup", str(tmp_path / "missing" / "copy.db"))
    assert code == 1 and "no such directory" in output
