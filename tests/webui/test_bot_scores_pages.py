"""The bot scores kept in the store (issue 14, task BS) change no page: `/persons/bots` and
`/stats/people` (HTML, JSON and CSV twins) as a facilitator are the same with the scores kept
off, computed and kept by one worker, and read back by a second worker that scans nothing, and
so after a bot is marked (the figures computed again, the scores read back).

Data: twisted-python's twelve 2018 volumes (379 messages, trac's weekly summaries).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from analytics import bot_columns, bots, facts, frame
from config.settings import load_settings
from store import bots as marks
from store import visibility
from tests.support.twisted_year import sync_twisted_2018
from tests.support.webauth import create_account
from tests.webui import test_kept_pages as kept_pages
from webui import create_app, stats_prepare

URLS = ("/persons/bots", "/stats/people", "/stats/people?bots=include")


@pytest.fixture(scope="module")
def twisted_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("bot-scores-pages") / "data"
    sync_twisted_2018(data / "store.db")
    create_account(data, "facilitator", "kept")
    return data


@pytest.fixture()
def data(twisted_data: Path, tmp_path: Path) -> Path:
    found = tmp_path / "data"
    shutil.copytree(twisted_data, found)
    return found


def _fresh() -> None:
    """A new worker: nothing in memory."""
    frame.clear_cache()
    facts.clear_cache()
    bots.clear_cache()


def _app(data: Path, kept: bool) -> Flask:
    _fresh()
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    app.config["BOT_SCORES_KEPT"] = kept
    return app


def _answers(app: Flask, data: Path) -> dict[str, Any]:
    return kept_pages._answers(app, data, URLS)


def _kept_rows(data: Path) -> int:
    db = sqlite3.connect(data / "store.db")
    try:
        query = "SELECT count(*) FROM frame_snapshots WHERE key LIKE 'bot-scores;%'"
        return int(db.execute(query).fetchone()[0])
    finally:
        db.close()


def _forget_figures(data: Path) -> None:
    db = sqlite3.connect(data / "store.db")
    with db:
        db.execute("DELETE FROM figure_cache")
    db.close()


def _no_scan(*_args: Any) -> None:
    raise AssertionError("the visible messages scanned again")


def test_pages_are_the_same_with_the_scores_kept_or_not(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(_app(data, kept=False), data)
    assert _kept_rows(data) == 0  # kept off: nothing written
    _forget_figures(data)
    assert _answers(_app(data, kept=True), data) == expected  # computed and kept
    assert _kept_rows(data) == 1  # one reader's access
    _forget_figures(data)
    with monkeypatch.context() as patched:
        patched.setattr(bot_columns, "scan", _no_scan)
        assert _answers(_app(data, kept=True), data) == expected  # a second worker reads them
    trac = sqlite3.connect(data / "store.db")
    with trac:
        key = trac.execute(
            "SELECT p.key FROM identities i JOIN persons p ON p.id = i.person WHERE i.value = ?",
            ("trac@twistedmatrix.com",),
        ).fetchone()[0]
        marks.mark(trac, str(key), "cli:test", "weekly bug summaries")
    trac.close()
    marked = _answers(_app(data, kept=False), data)
    assert marked != expected  # trac now marked: no longer suggested
    _forget_figures(data)
    with monkeypatch.context() as patched:
        patched.setattr(bot_columns, "scan", _no_scan)
        assert _answers(_app(data, kept=True), data) == marked  # a mark keeps the scores


def test_the_preparation_keeps_them_for_the_workers(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(_app(data, kept=False), data)
    _forget_figures(data)
    stats_prepare.prepare(_app(data, kept=True))
    assert _kept_rows(data) == 1  # the facilitator's access (the anonymous pages score no bot)
    _forget_figures(data)
    with monkeypatch.context() as patched:
        patched.setattr(bot_columns, "scan", _no_scan)
        assert _answers(_app(data, kept=True), data) == expected


def test_outside_an_application_nothing_is_kept(data: Path) -> None:
    _app(data, kept=True)  # configures the keeping, as every web process does
    conn = sqlite3.connect(data / "store.db")
    try:
        bots.clear_cache()
        assert bots.scores(conn, visibility.for_reader(conn, include_private=True))
    finally:
        conn.close()
    assert _kept_rows(data) == 0  # the CLI's and scripts' scores are their own
