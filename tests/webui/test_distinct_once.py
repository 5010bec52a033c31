"""A pair of persons marked "different people" twice - the chooser form of a suggestion of
more than `PAIR_BUTTONS` persons offers every pair, a marked one too, and a form can be sent
twice - is recorded once (issue 14, CL2): no second event, the first one's id answered, and
undoing it suggests the pair again (with two events, undoing one left the other standing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store import merges
from tests.support.webauth import login
from tests.webui.test_suggestion_pages import _app, built, data  # noqa: F401 (fixtures)

__all__ = ["built", "data"]


def _events(data: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(data / "store.db")
    try:
        return [
            (int(r[0]), str(r[1]))
            for r in conn.execute("SELECT id, action FROM person_events ORDER BY id")
        ]
    finally:
        conn.close()


def test_the_chooser_marking_a_pair_again_records_no_second_event(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webui import merge_suggestions

    monkeypatch.setattr(merge_suggestions, "PAIR_BUTTONS", 2)  # Ada's 3 persons: the chooser
    app = _app(data)
    client = app.test_client()
    session = login(client, data, "facilitator", username="twice")
    ada = client.get("/persons/suggestions.json").get_json()["suggestions"][0]
    keys = [p["key"] for p in ada["persons"]]
    before = _events(data)
    for a, b in ((keys[2], keys[0]), (keys[0], keys[2])):  # the same pair, either way round
        form = {"a": a, "b": b, "csrf_token": session.csrf}
        assert client.post("/persons/distinct", data=form).status_code == 303
    added = _events(data)[len(before) :]
    assert [action for _, action in added] == ["distinct"]


def test_marking_distinct_twice_answers_the_standing_event(data: Path) -> None:
    conn = sqlite3.connect(data / "store.db", isolation_level=None)
    try:
        first, second = merges.suggestions(conn)[0].persons[:2]
        event = merges.mark_distinct(conn, first, second, "test")
        assert merges.mark_distinct(conn, second, first, "test") == event
        merges.undo(conn, event, "test")
        assert (first, second) in [s.persons[:2] for s in merges.suggestions(conn)]
        again = merges.mark_distinct(conn, first, second, "test")  # after the undo: a new one
        assert again > event
        assert merges.mark_distinct(conn, first, second, "test") == again
    finally:
        conn.close()
