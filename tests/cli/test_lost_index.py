"""A search index that cannot answer for the store (its file deleted or never built, emptied,
or built from another store): `search` exits 3 saying to run `listarchive reindex` instead of
answering "0 messages", creates no index file, and `check` calls the index an error (exit 1,
as docs/cli.md gives for index problems; 3 stays for a damaged or lost store)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import Result

from config.settings import load_settings
from search.factory import open_configured
from tests.cli.test_cli import invoke, ok, ok_json
from tests.conftest import PIPERMAIL
from tests.search.conftest import ES_URL, delete_es_indices
from tests.support.es_app import es_env

VOLUME = PIPERMAIL / "twisted" / "reality" / "2000-January.txt.gz"  # 8 messages
WORD = "reality"


@pytest.fixture()
def synced(data_dir: Path) -> Path:
    ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME))
    assert ok_json(data_dir, "sync", "--workers", "1")["indexed"] == 8
    assert ok_json(data_dir, "search", WORD)["total"] > 0
    return data_dir


def assert_reindex_hint(result: Result, *words: str) -> None:
    assert result.exit_code == 3, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "run `listarchive reindex`" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert result.stdout == ""  # no "0 messages match", no JSON


def index_check(data_dir: Path) -> tuple[int, dict[str, object]]:
    result = invoke(data_dir, "check", "--json")
    report = json.loads(result.stdout)
    return result.exit_code, report["checks"]["index"]


def test_a_deleted_index_file_is_exit_3_and_not_recreated(synced: Path) -> None:
    index = synced / "search-fts.db"
    index.unlink()
    assert_reindex_hint(invoke(synced, "search", WORD), "no search index")
    assert_reindex_hint(invoke(synced, "search", WORD, "--json"), "no search index")
    assert not index.exists()
    code, checked = index_check(synced)
    assert code == 1 and checked["status"] == "error", checked
    assert "listarchive reindex" in str(checked["detail"])
    assert ok(synced, "reindex").strip() == "reindexed 8 messages"
    assert ok_json(synced, "search", WORD)["total"] > 0
    assert index_check(synced)[0] == 0


def test_an_emptied_index_is_exit_3(synced: Path) -> None:
    (synced / "search-fts.db").unlink()
    open_configured(load_settings(overrides={"data_dir": str(synced)})).close()  # a new, empty one
    assert (synced / "search-fts.db").exists()
    assert_reindex_hint(invoke(synced, "search", WORD), "the search index is empty")
    code, checked = index_check(synced)
    assert code == 1 and checked["status"] == "error", checked
    assert checked["detail"] == "the search index is empty: run `listarchive reindex`"
    assert checked["indexed"] == 0 and checked["messages"] == 8


def test_an_index_of_another_store_is_exit_3(synced: Path) -> None:
    conn = sqlite3.connect(synced / "search-fts.db")
    conn.execute("UPDATE meta SET value = 'elsewhere' WHERE name = 'store_id'")
    conn.commit()
    conn.close()
    assert_reindex_hint(invoke(synced, "search", WORD), "another store")


def test_a_private_archive_lost_index_needs_include_private(data_dir: Path) -> None:
    """Without --include-private the search may read none of the messages: nothing is lost for
    it; with it, the lost index is said."""
    ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME), "--private")
    ok(data_dir, "sync", "--workers", "1")
    (data_dir / "search-fts.db").unlink()
    assert ok_json(data_dir, "search", WORD)["total"] == 0
    assert_reindex_hint(invoke(data_dir, "search", WORD, "--include-private"))


def test_a_fresh_data_dir_still_searches_to_nothing(data_dir: Path) -> None:
    assert ok_json(data_dir, "search", WORD) == {"total": 0, "hits": []}


@pytest.mark.skipif(not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL")
def test_a_deleted_elasticsearch_index_is_exit_3(data_dir: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    env = es_env(prefix)
    try:
        ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME))
        assert invoke(data_dir, "sync", "--workers", "1", env=env).exit_code == 0
        found = invoke(data_dir, "search", WORD, "--json", env=env)
        assert found.exit_code == 0 and json.loads(found.stdout)["total"] > 0
        delete_es_indices(prefix)
        assert_reindex_hint(invoke(data_dir, "search", WORD, env=env), "empty")
        assert invoke(data_dir, "reindex", env=env).exit_code == 0
        assert json.loads(ok_env(data_dir, env, "search", WORD, "--json"))["total"] > 0
    finally:
        delete_es_indices(prefix)


def ok_env(data_dir: Path, env: dict[str, str], *args: str) -> str:
    result = invoke(data_dir, *args, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout
