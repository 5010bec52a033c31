"""`listarchive sync --json` says what became of the compaction after the sync (issue 14, CL2):
`compaction` is null when none was due, else `runs --json`'s `{"at", "status", "detail"}` of
this run: `skipped` (the file larger than `store.compact_max_bytes`), `done`, or `failed`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from store import compaction
from tests.store.test_compaction import _mbox


def _sync(data_dir: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "sync", "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def _runs(data_dir: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "runs", "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


@pytest.fixture
def box(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(compaction, "MIN_MESSAGES", 4)
    path = tmp_path / "a.mbox"
    _mbox(path, range(3))
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "lists", "add", "a", "--mbox", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def test_a_skipped_compaction_is_in_the_sync_json(
    box: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _sync(data_dir)  # 3 messages: fewer than MIN_MESSAGES, none due
    assert first["compaction"] is None
    assert set(first) == {
        "runs",
        "indexed",
        "index_error",
        "not_indexable",
        "compaction",
        "statistics",
    }
    monkeypatch.setenv("LISTARCHIVE_STORE_COMPACT_MAX_BYTES", "4096")  # any store is larger
    _mbox(box, range(8))
    skipped = _sync(data_dir)["compaction"]
    assert skipped["status"] == "skipped"
    assert "store.compact_max_bytes" in skipped["detail"]
    assert skipped == _runs(data_dir)["compaction"]  # what `runs` shows


def test_a_compaction_done_or_failed_is_in_the_sync_json(
    box: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mbox(box, range(8))
    done = _sync(data_dir)["compaction"]
    assert done["status"] == "done" and done == _runs(data_dir)["compaction"]

    def locked(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(compaction, "compact", locked)
    _mbox(box, range(12))
    failed = _sync(data_dir)["compaction"]
    assert failed["status"] == "failed" and "database is locked" in failed["detail"]
