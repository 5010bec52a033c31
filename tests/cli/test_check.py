"""The CLI over a damaged, replaced or exposed store: private file modes after a sync, the
store's message and exit code 3 (never a traceback) from every command, a zero-byte or lost
store refused while the index holds an earlier store, and `listarchive check`."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.cli.test_cli import invoke, ok, ok_json
from tests.conftest import PIPERMAIL
from tests.search.conftest import ES_URL, delete_es_indices
from tests.store.test_store_faults import overwrite_page
from tests.support.es_app import es_env

VOLUME = PIPERMAIL / "twisted" / "reality" / "2000-January.txt.gz"  # 8 messages
WORD = "reality"  # found in that volume


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture()
def synced(data_dir: Path) -> Path:
    ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME))
    report = ok_json(data_dir, "sync", "--workers", "1")
    assert report["indexed"] == 8, report
    assert ok_json(data_dir, "search", WORD)["total"] > 0
    return data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_sync_leaves_only_private_files(data_dir: Path) -> None:
    assert mode(data_dir) == 0o755  # made by the fixture as most tools would
    ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME))
    ok(data_dir, "sync", "--workers", "1")
    assert mode(data_dir) == 0o700
    names = sorted(p.name for p in data_dir.iterdir())
    assert {"store.db", "search-fts.db"} <= set(names)
    expected = {name: 0o700 if (data_dir / name).is_dir() else 0o600 for name in names}
    assert {name: mode(data_dir / name) for name in names} == expected  # e.g. the spool tmp/


def test_an_exposed_store_is_tightened(synced: Path) -> None:
    for path in (synced, synced / "store.db", synced / "search-fts.db"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert (
        json.loads(invoke(synced, "check", "--json").stdout)["checks"]["permissions"]["status"]
        == "error"
    )
    ok(synced, "lists")
    ok(synced, "search", WORD)  # opens the index as a writer
    assert [mode(synced), mode(synced / "store.db"), mode(synced / "search-fts.db")] == [
        0o700,
        0o600,
        0o600,
    ]


def damage(data_dir: Path, how: str) -> None:
    path = data_dir / "store.db"
    if how == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    elif how == "garbage-page":
        overwrite_page(path, "lists")
    elif how == "not-a-database":
        path.write_bytes(b"notes\n" * 4000)
    else:
        raise AssertionError(how)


def assert_store_message(result: Result, *words: str) -> None:
    assert result.exit_code == 3, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "Traceback" not in result.output
    assert "store.db" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


COMMANDS: list[tuple[str, ...]] = [("lists",), ("sync", "--workers", "1"), ("runs",)]


@pytest.mark.parametrize("how", ["truncated", "garbage-page", "not-a-database"])
def test_a_damaged_store_gives_its_message_and_exit_3(synced: Path, how: str) -> None:
    damage(synced, how)
    for command in COMMANDS:
        assert_store_message(invoke(synced, *command), "damaged", "backup", "listarchive check")
    if how != "garbage-page":  # the search answers from the index: only the file is checked
        assert_store_message(invoke(synced, "search", WORD), "damaged", "backup")


@pytest.mark.parametrize("how", ["zero-bytes", "missing"])
def test_a_lost_store_is_not_replaced_by_an_empty_one(synced: Path, how: str) -> None:
    path = synced / "store.db"
    if how == "zero-bytes":
        path.write_bytes(b"")
    else:
        path.unlink()
    for command in [*COMMANDS, ("search", WORD), ("lists", "add", "x", "--mbox", str(VOLUME))]:
        assert_store_message(invoke(synced, *command), "search-fts.db", "8 messages", "backup")
    assert not path.exists() if how == "missing" else path.stat().st_size == 0
    assert json.loads(invoke(synced, "check", "--json").stdout)["status"] == "damaged"


def test_a_data_dir_whose_index_holds_no_store_gets_a_new_store(data_dir: Path) -> None:
    """The web UI served before the first sync made an empty index: that is no earlier store."""
    assert ok_json(data_dir, "search", WORD)["total"] == 0  # creates an empty search-fts.db
    assert (data_dir / "search-fts.db").stat().st_size > 0
    ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME))
    assert ok_json(data_dir, "sync", "--workers", "1")["indexed"] == 8


# -- listarchive check -------------------------------------------------------------------


def check(data_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = invoke(data_dir, "check", "--json", *args)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, json.loads(result.stdout)


def test_check_a_sound_store(synced: Path) -> None:
    for args in ((), ("--quick",)):
        code, report = check(synced, *args)
        assert code == 0 and report["status"] == "ok", report
        assert report["store"] == str(synced / "store.db")
        assert {name: c["status"] for name, c in report["checks"].items()} == {
            "store": "ok",
            "integrity": "ok",
            "foreign_keys": "ok",
            "schema": "ok",
            "index": "ok",
            "permissions": "ok",
        }
        assert report["checks"]["index"]["indexed"] == report["checks"]["index"]["messages"] == 8
    text = invoke(synced, "check")
    assert text.exit_code == 0 and text.stdout.strip().endswith(": ok")


@pytest.mark.parametrize("how", ["truncated", "garbage-page", "not-a-database"])
def test_check_a_damaged_store(synced: Path, how: str) -> None:
    damage(synced, how)
    code, report = check(synced)
    assert code == 3 and report["status"] == "damaged", report
    failed = [c for c in report["checks"].values() if c["status"] == "error"]
    assert failed and all("backup" in c["detail"] for c in failed), failed
    text = invoke(synced, "check")
    assert text.exit_code == 3 and text.stdout.strip().endswith(": damaged")


def test_check_an_index_of_another_store(synced: Path) -> None:
    conn = sqlite3.connect(synced / "search-fts.db")
    conn.execute("UPDATE meta SET value = 'elsewhere' WHERE name = 'store_id'")
    conn.commit()
    conn.close()
    code, report = check(synced)
    assert code == 1 and report["status"] == "unhealthy"
    assert "another store" in report["checks"]["index"]["detail"]


@pytest.mark.skipif(not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL")
def test_a_lost_store_is_not_replaced_beside_an_elasticsearch_index(data_dir: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    env = es_env(prefix)
    try:
        assert invoke(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME)).exit_code == 0
        assert invoke(data_dir, "sync", "--workers", "1", env=env).exit_code == 0
        checked = invoke(data_dir, "check", "--json", env=env)
        assert checked.exit_code == 0, checked.stdout
        assert json.loads(checked.stdout)["checks"]["index"]["indexed"] == 8
        (data_dir / "store.db").unlink()
        result = invoke(data_dir, "sync", "--workers", "1", env=env)
        assert_store_message(result, prefix, "8 messages", "backup")
        assert not (data_dir / "store.db").exists()
    finally:
        delete_es_indices(prefix)
