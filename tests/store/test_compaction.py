"""A sync that grew the store by a quarter compacts the store and the embedded index after it
(issue 14, store size: `store.compaction`); a sync that did not, does not."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from search.sqlite_fts import SqliteFtsBackend
from store import compaction


def run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _mbox(path: Path, numbers: range) -> None:
    path.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n"
            + f"From: p{n}@example.org\nMessage-ID: <m{n}@example.org>\nSubject: topic {n}\n"
            f"Date: Mon, 1 Jan 2001 00:00:00 +0000\n\nfindme word{n}\n\n".encode()
            for n in numbers
        )
    )


def _compacted(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'compacted_messages'").fetchone()
        return int(row[0])
    finally:
        conn.close()


def test_a_sync_that_grew_the_store_compacts_it_and_the_index(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    box = tmp_path / "a.mbox"
    _mbox(box, range(3))
    run(data_dir, "lists", "add", "a", "--mbox", str(box))
    run(data_dir, "sync")  # 3 messages: fewer than MIN_MESSAGES
    assert (calls, _compacted(data_dir)) == ([], 0)
    _mbox(box, range(8))
    run(data_dir, "sync")
    assert (calls, _compacted(data_dir)) == (["store", "index"], 8)
    _mbox(box, range(9))  # 9 < 8 * 1.25
    run(data_dir, "sync")
    assert calls == ["store", "index"]
    _mbox(box, range(10))
    run(data_dir, "sync")
    assert (calls, _compacted(data_dir)) == (["store", "index"] * 2, 10)
    hits = json.loads(run(data_dir, "search", "findme", "--json", "--limit", "50"))["hits"]
    assert len(hits) == 10


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(compaction, "MIN_MESSAGES", 4)
    calls: list[str] = []
    store_compact, index_compact = compaction.compact, SqliteFtsBackend.compact

    def counted_store(conn: sqlite3.Connection) -> None:
        calls.append("store")
        store_compact(conn)

    def counted_index(backend: SqliteFtsBackend) -> None:
        calls.append("index")
        index_compact(backend)

    monkeypatch.setattr(compaction, "compact", counted_store)
    monkeypatch.setattr(SqliteFtsBackend, "compact", counted_index)
    return calls


def test_the_growth_factor_is_a_setting(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    monkeypatch.setenv("LISTARCHIVE_STORE_COMPACT_GROWTH", "2.0")
    box = tmp_path / "a.mbox"
    _mbox(box, range(8))
    run(data_dir, "lists", "add", "a", "--mbox", str(box))
    run(data_dir, "sync")
    assert (calls, _compacted(data_dir)) == (["store", "index"], 8)
    _mbox(box, range(12))  # 12 >= 8 * 1.25, but not 8 * 2.0
    run(data_dir, "sync")
    assert calls == ["store", "index"]
    _mbox(box, range(16))
    run(data_dir, "sync")
    assert (calls, _compacted(data_dir)) == (["store", "index"] * 2, 16)


def test_a_store_larger_than_the_bound_is_not_compacted_after_a_sync(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    monkeypatch.setenv("LISTARCHIVE_STORE_COMPACT_MAX_BYTES", "4096")  # any store is larger
    box = tmp_path / "a.mbox"
    _mbox(box, range(8))
    run(data_dir, "lists", "add", "a", "--mbox", str(box))
    run(data_dir, "sync")
    assert (calls, _compacted(data_dir)) == ([], 0)
    assert "COMPACTION SKIPPED" in run(data_dir, "runs")
    skipped = json.loads(run(data_dir, "runs", "--json"))["compaction"]
    assert skipped["status"] == "skipped"
    assert "store.compact_max_bytes" in skipped["detail"]
    # by hand, whatever the size: the store and the index, then runs no longer warns
    out = run(data_dir, "compact")
    assert "store.db" in out and "search-fts.db" in out
    assert (calls, _compacted(data_dir)) == (["store", "index"], 8)
    assert "COMPACTION SKIPPED" not in run(data_dir, "runs")
    assert json.loads(run(data_dir, "runs", "--json"))["compaction"]["status"] == "done"
    hits = json.loads(run(data_dir, "search", "findme", "--json", "--limit", "50"))["hits"]
    assert len(hits) == 8


def test_the_compaction_settings_are_checked(data_dir: Path) -> None:
    from config.settings import ConfigError, load_settings

    for name, value in (("STORE_COMPACT_GROWTH", "0.5"), ("STORE_COMPACT_MAX_BYTES", "0")):
        with pytest.raises(ConfigError, match=name.lower().replace("_", ".", 1)):
            load_settings(env={f"LISTARCHIVE_{name}": value, "LISTARCHIVE_DATA_DIR": str(data_dir)})


def test_compact_while_another_process_writes_says_so(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = tmp_path / "a.mbox"
    _mbox(box, range(3))
    run(data_dir, "lists", "add", "a", "--mbox", str(box))

    def locked(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database is locked")  # a sync's volume, past 10 s

    monkeypatch.setattr(compaction, "compact", locked)
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "compact"])
    assert result.exit_code == 1 and result.exception is not None
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "another process is writing to it" in result.output
