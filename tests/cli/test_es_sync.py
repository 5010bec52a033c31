"""Sync with Elasticsearch as the backend: storing goes on while the index is down and the
index catches up when it returns (a real node; never a mock)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from tests.search.conftest import ES_URL, delete_es_indices

pytestmark = pytest.mark.skipif(
    not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL"
)


def test_index_down_then_back(corpus: Path, tmp_path: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    data = tmp_path / "data"
    volumes = sorted((corpus / "pipermail/twisted/reality").glob("*.txt.gz"))
    down = {
        "LISTARCHIVE_SEARCH_BACKEND": "elasticsearch",
        "LISTARCHIVE_SEARCH_URL": "http://127.0.0.1:9",
        "LISTARCHIVE_SEARCH_INDEX": prefix,
    }
    up = {**down, "LISTARCHIVE_SEARCH_URL": ES_URL}
    runner = CliRunner()
    args = ["--data-dir", str(data)]
    try:
        result = runner.invoke(
            cli, [*args, "lists", "add", "reality", "--mbox", *map(str, volumes)]
        )
        assert result.exit_code == 0, result.output

        result = runner.invoke(cli, [*args, "sync", "--json"], env=down)
        assert result.exit_code == 1
        payload = json.loads(result.stdout)
        assert "unreachable" in payload["index_error"]
        stored = payload["runs"][0]["new_messages"]
        assert stored > 100
        conn = sqlite3.connect(data / "store.db")
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == stored
        conn.close()

        result = runner.invoke(cli, [*args, "search", "reality", "--json"], env=down)
        assert result.exit_code == 1
        assert "unreachable" in result.output and "Traceback" not in result.output

        result = runner.invoke(cli, [*args, "sync", "--json"], env=up)
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["runs"][0]["new_messages"] == 0
        assert payload["indexed"] == stored

        query = ["search", "list:reality", "--json", "--limit", "1"]
        on_es = json.loads(runner.invoke(cli, [*args, *query], env=up).stdout)
        assert on_es["total"] == stored
        result = runner.invoke(cli, [*args, "reindex"], env=up)
        assert result.exit_code == 0 and f"reindexed {stored}" in result.output
        again = json.loads(runner.invoke(cli, [*args, *query], env=up).stdout)
        assert again == on_es
        # the embedded index of the same store agrees
        embedded = runner.invoke(cli, [*args, "reindex"])
        assert embedded.exit_code == 0
        assert json.loads(runner.invoke(cli, [*args, *query]).stdout)["total"] == stored
    finally:
        delete_es_indices(prefix)
