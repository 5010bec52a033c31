"""The commands that change the store without a sync prepare the statistics afterwards as
`sync` does (issue 14, task PR2): `persons merge|split|undo|bot|not-bot`, `remove`, `restore`
and `reparse` gain `--no-prepare` and a `statistics` field in their JSON (null when nothing
ran: `--no-prepare`, a dry run, a state already prepared, or a store below
`analytics.snapshot_min_posts`); the fields they had stay."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from listarchive import preparing
from listarchive.cli import cli
from store import figure_cache

FIRST = "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
SECOND = "mbox/apache-ponymail-foal/dev_ponymail_apache_org_2020-10.mbox"


@pytest.fixture(autouse=True)
def _prepare_small_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTARCHIVE_ANALYTICS_SNAPSHOT_MIN_POSTS", "1")


def _run(data: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    assert result.exit_code == 0, result.output
    return result


def _json(data: Path, *args: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(_run(data, *args, "--json").stdout)
    return payload


@pytest.fixture
def data(corpus: Path, tmp_path: Path) -> Path:
    path = tmp_path / "data"
    _run(path, "lists", "add", "dev", "--mbox", str(corpus / FIRST), "--mbox", str(corpus / SECOND))
    _run(path, "sync", "--no-prepare")
    return path


def _marked(data: Path) -> bool:
    """Whether the store's current state was prepared."""
    conn = sqlite3.connect(data / "store.db")
    try:
        return figure_cache.get(conn, preparing.MARK, figure_cache.state(conn)) is not None
    finally:
        conn.close()


def _keys(data: Path) -> list[str]:
    persons = _json(data, "persons")["persons"]
    return sorted(p["key"] for p in persons)


def _done(payload: dict[str, Any]) -> None:
    prepared = payload["statistics"]
    assert prepared is not None and prepared["status"] == "done", payload
    assert prepared["pages"] >= 7 and prepared["error"] == "", prepared


def test_persons_merge_undo_and_bot_marks_prepare(data: Path) -> None:
    first, second = _keys(data)
    merged = _json(data, "persons", "merge", first, second)
    assert set(merged) == {"event", "person", "statistics"}
    _done(merged)
    assert _marked(data)
    undone = _json(data, "persons", "undo", str(merged["event"]), "--no-prepare")
    assert set(undone) == {"event", "undid", "statistics"} and undone["statistics"] is None
    assert not _marked(data)  # left to the first visitor (or the scheduler's job)
    marked = _json(data, "persons", "bot", first)
    assert set(marked) == {"event", "person", "state", "statistics"}
    _done(marked)
    again = _json(data, "persons", "bot", first)  # already marked: the state was prepared
    assert again["event"] is None and again["statistics"] is None
    _done(_json(data, "persons", "not-bot", first))
    assert _marked(data)


def test_the_text_summary_says_the_preparation(data: Path) -> None:
    first, second = _keys(data)
    result = _run(data, "persons", "merge", first, second)
    assert "merged into" in result.stdout and " pages prepared in " in result.stdout
    result = _run(data, "persons", "undo", "1", "--no-prepare")
    assert "statistics" not in result.stdout


def test_remove_and_restore_prepare(data: Path) -> None:
    conn = sqlite3.connect(data / "store.db")
    try:
        key = str(conn.execute("SELECT key FROM messages ORDER BY id LIMIT 1").fetchone()[0])
    finally:
        conn.close()
    removed = _json(data, "remove", key)
    assert {"id", "messages", "index_error", "statistics"} <= set(removed)
    _done(removed)
    assert _marked(data)
    restored = _json(data, "restore", str(removed["id"]), "--no-prepare")
    assert restored["active"] is False and restored["statistics"] is None
    assert not _marked(data)


def test_reparse_prepares_unless_dry_run_or_told_not_to(data: Path) -> None:
    assert _json(data, "reparse", "--dry-run")["statistics"] is None
    assert not _marked(data)
    assert _json(data, "reparse", "--no-prepare")["statistics"] is None
    payload = _json(data, "reparse")  # the state after the sync was never prepared
    assert {"checked", "indexed", "index_error", "statistics"} <= set(payload)
    _done(payload)


def test_a_store_below_the_bound_is_not_prepared(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTARCHIVE_ANALYTICS_SNAPSHOT_MIN_POSTS", "1000")
    first, second = _keys(data)
    assert _json(data, "persons", "merge", first, second)["statistics"] is None
    assert not _marked(data)
