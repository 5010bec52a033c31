"""/stats/people's suggestions (merge suggestions and suggested bots) kept per state of the
archive with the frame snapshots (issue 14, task DB3, `webui.kept_results`): a second worker
whose figure cache was emptied reads them back without computing them (the same HTML, JSON
and CSV); a sync, a removal's change, a merge (the persons version), a bot mark and a pair
recorded distinct (the key) each compute them again; a planted row is read while its state
and key hold; a damaged row is ignored; nothing is kept with the figure cache or the frame
snapshots off.

Data: twisted-python's twelve 2018 volumes (379 messages, trac's weekly summaries).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from config.settings import load_settings
from store import bots as marks
from store import identities, merges
from tests.support.webauth import login
from tests.webui.test_bot_scores_pages import _forget_figures, _fresh
from tests.webui.test_bot_scores_pages import data as data  # noqa: F401  (fixtures)
from tests.webui.test_bot_scores_pages import twisted_data as twisted_data  # noqa: F401
from tests.webui.test_kept_pages import CSRF
from webui import create_app, kept_results

PEOPLE = "/stats/people"


def _app(data: Path, **config: Any) -> Flask:
    _fresh()
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    app.config.update(config)
    return app


def _rows(data: Path) -> list[tuple[str, bytes]]:
    db = sqlite3.connect(data / "store.db")
    try:
        query = "SELECT key, value FROM frame_snapshots WHERE key LIKE 'kept;%' ORDER BY key"
        return [(str(k), bytes(v)) for k, v in db.execute(query)]
    finally:
        db.close()


def _write(data: Path, change: Callable[[sqlite3.Connection], object]) -> None:
    db = sqlite3.connect(data / "store.db")
    try:
        with db:
            change(db)
    finally:
        db.close()


def _synced(db: sqlite3.Connection) -> None:
    """What a sync, a removal or an undo does to the state: the change sequence moves."""
    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'")


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts `merges.suggestions` computed (the kept rows spare it)."""
    calls: list[int] = []
    original = merges.suggestions

    def counted(conn: sqlite3.Connection, limit: int = 200) -> list[merges.Suggestion]:
        calls.append(limit)
        return original(conn, limit)

    monkeypatch.setattr(merges, "suggestions", counted)
    return calls


def _people(app: Flask, data: Path) -> Any:
    """/stats/people (HTML, JSON, CSV) with suggested bots left out, then counted: the first
    requests of the worker (another page's put would drop rows of another state)."""
    client = app.test_client()
    login(client, data, "facilitator", username="kept", create=False)
    found = {}
    for tail in ("", "?bots=include"):
        answers = [client.get(f"{PEOPLE}{ext}{tail}") for ext in ("", ".json", ".csv")]
        assert [a.status_code for a in answers] == [200, 200, 200], tail
        html = CSRF.sub(b'name="csrf_token" value=""', answers[0].get_data())
        found[tail] = (html, answers[1].get_json(), answers[2].get_data())
    return found


def test_a_second_worker_reads_them_back(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _people(_app(data, STATS_FIGURE_CACHE=False), data)
    assert _rows(data) == []  # the figure cache off: nothing kept
    _forget_figures(data)
    calls = _counting(monkeypatch)
    assert _people(_app(data), data) == expected  # computed and kept
    assert len(calls) == 2 and len(_rows(data)) == 2  # bots left out, and counted
    _forget_figures(data)
    assert _people(_app(data), data) == expected  # a second worker: read back
    assert len(calls) == 2
    _forget_figures(data)
    _write(
        data, lambda db: db.execute("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'")
    )
    assert _people(_app(data), data) == expected
    assert len(calls) == 4
    _forget_figures(data)
    _write(data, identities.bump_version)  # a merge or its undoing
    assert _people(_app(data), data) == expected
    assert len(calls) == 6


def test_a_mark_or_a_distinct_pair_computes_them_again(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(_app(data), data)
    calls = _counting(monkeypatch)

    def trac(db: sqlite3.Connection) -> str:
        return str(
            db.execute(
                "SELECT p.key FROM identities i JOIN persons p ON p.id = i.person "
                "WHERE i.value = ?",
                ("trac@twistedmatrix.com",),
            ).fetchone()[0]
        )

    _write(data, lambda db: marks.mark(db, trac(db), "cli:test", "weekly summaries"))
    marked = _people(_app(data, STATS_FIGURE_CACHE=False), data)
    calls.clear()
    _forget_figures(data)
    assert _people(_app(data), data) == marked  # trac's mark: not the unmarked rows
    assert len(calls) == 2
    db = sqlite3.connect(data / "store.db")
    pair = [str(k) for (k,) in db.execute("SELECT key FROM persons ORDER BY id LIMIT 2")]
    db.close()
    _write(data, lambda db: merges.mark_distinct(db, pair[0], pair[1], "cli:test"))
    _forget_figures(data)
    _people(_app(data), data)
    assert len(calls) == 4


def test_a_planted_row_is_read_while_its_state_holds(data: Path) -> None:
    expected = _people(_app(data), data)
    key, value = next((k, v) for k, v in _rows(data) if b'"hidden":[]' not in v)
    planted = json.loads(value)
    assert planted["hidden"], "the bots left out"
    planted["hidden"] = []  # no bot suggested: trac shows among the posters
    _write(
        data,
        lambda db: db.execute(
            "UPDATE frame_snapshots SET value = ? WHERE key = ?",
            (json.dumps(planted).encode(), key),
        ),
    )
    _forget_figures(data)
    found = _people(_app(data), data)
    assert found[""] != expected[""]
    assert "trac" in json.dumps(found[""][1]["posters"]).lower()
    _forget_figures(data)
    _write(
        data, lambda db: db.execute("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'")
    )
    assert _people(_app(data), data) == expected  # another state: the planted row is not read


@pytest.mark.parametrize("damage", [b"\xff\xfe", b"{not json", b"[1, 2]", b"null"])
def test_a_damaged_row_is_computed_again(data: Path, damage: bytes) -> None:
    expected = _people(_app(data), data)
    for key, _value in _rows(data):
        _write(
            data,
            lambda db, k=key: db.execute(  # type: ignore[misc]
                "UPDATE frame_snapshots SET value = ? WHERE key = ?", (damage, k)
            ),
        )
    _forget_figures(data)
    assert _people(_app(data), data) == expected
    assert all(value.startswith(b"{") for _key, value in _rows(data))  # written again


def test_nothing_is_kept_with_the_snapshots_off(data: Path) -> None:
    expected = _people(_app(data, STATS_FIGURE_CACHE=False), data)
    assert _people(_app(data, FRAME_SNAPSHOTS=False), data) == expected
    assert _rows(data) == []


def test_rows_of_other_code_are_not_read(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The decisions' and access's store code (`kept_results.code_digest`) is in the key."""
    expected = _people(_app(data), data)
    calls = _counting(monkeypatch)
    monkeypatch.setattr(kept_results, "code_digest", lambda: "another-code")
    _forget_figures(data)
    assert _people(_app(data), data) == expected
    assert len(calls) == 2
