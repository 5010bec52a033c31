"""Bots in the web UI and the CLI: `/persons/bots` (facilitator) lists marked and suggested bots
with JSON and CSV twins; a CSRF-protected form marks a person as a bot or not (recorded,
undone through the merge record); every dashboard leaves bots out by default and says so, with
`?bots=include` (CLI `--include-bots`) to count them.

Data: twisted-python's twelve 2018 volumes (379 messages); trac posted the 49 "Weekly Bug
Summary" messages, which nobody answered.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from listarchive.cli import cli
from tests.support.twisted_year import sync_twisted_2018
from tests.support.webauth import login
from webui import create_app

ALL, TRAC_POSTS = 379, 49


@pytest.fixture(scope="module")
def twisted_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("bots") / "data"
    sync_twisted_2018(data / "store.db")
    return data


@pytest.fixture()
def data(twisted_data: Path, tmp_path: Path) -> Path:
    found = tmp_path / "data"
    shutil.copytree(twisted_data, found)  # each test marks bots: a fresh copy each
    return found


@pytest.fixture()
def app(data: Path) -> Flask:
    return create_app(
        load_settings(env={}, overrides={"data_dir": data, "web.secure_cookies": False})
    )


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _key(data: Path, address: str) -> str:
    conn = sqlite3.connect(data / "store.db")
    try:
        row = conn.execute(
            "SELECT p.key FROM identities i JOIN persons p ON p.id = i.person WHERE i.value = ?",
            (address,),
        ).fetchone()
    finally:
        conn.close()
    return str(row[0])


def test_bots_page_needs_a_facilitator(data: Path, client: FlaskClient) -> None:
    trac = _key(data, "trac@twistedmatrix.com")
    assert client.get("/persons/bots").status_code == 302
    assert client.get("/persons/bots.json").status_code == 401
    assert client.get("/persons/bots.csv").status_code == 401
    assert client.post(f"/persons/{trac}/bot").status_code in (400, 401)


def test_mark_a_suggested_bot_and_the_statistics_leave_it_out(
    app: Flask, data: Path, client: FlaskClient
) -> None:
    trac = _key(data, "trac@twistedmatrix.com")
    glyph = _key(data, "glyph@twistedmatrix.com")
    before = client.get("/stats.json").get_json()
    assert before["scope"]["bots"] == "excluded" and before["scope"]["bots_excluded_posts"] == 0
    assert before["totals"]["messages"] == ALL
    session = login(client, app, "facilitator")
    found = client.get("/persons/bots.json").get_json()
    assert [s["key"] for s in found["suggestions"]] == [trac]
    assert found["suggestions"][0]["posts"] == TRAC_POSTS and found["marked"] == []
    page = client.get("/persons/bots").get_data(as_text=True)
    assert "This is a bot" in page and "fixed subjects" in page
    assert client.post(f"/persons/{trac}/bot", data={"reason": "x"}).status_code == 400  # CSRF
    done = client.post(
        f"/persons/{trac}/bot",
        data={"csrf_token": session.csrf, "reason": "weekly bug summaries"},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/persons/{trac}")
    found = client.get("/persons/bots.json").get_json()
    assert found["suggestions"] == []
    [marked] = found["marked"]
    assert (marked["key"], marked["state"], marked["reason"]) == (
        trac,
        "bot",
        "weekly bug summaries",
    )
    assert marked["actor"] == f"web:{session.username}"
    csv_lines = client.get("/persons/bots.csv").get_data(as_text=True).splitlines()
    assert csv_lines[0] == "key,name,state,score,posts,reasons,at,actor,reason"
    assert csv_lines[1].startswith(f"{trac},trac,bot,")

    # every dashboard: bots left out by default, counted with ?bots=include
    now = client.get("/stats.json").get_json()
    assert now["scope"]["bots"] == "excluded"
    assert now["scope"]["bots_excluded_posts"] == TRAC_POSTS
    assert now["totals"]["messages"] == ALL - TRAC_POSTS
    assert now["totals"]["participants"] == before["totals"]["participants"] - 1
    assert now["responses"]["threads"] == before["responses"]["threads"] - TRAC_POSTS
    included = client.get("/stats.json?bots=include").get_json()
    assert included["scope"]["bots"] == "included"
    assert included["scope"]["bots_excluded_posts"] == 0
    assert included["totals"] == before["totals"]
    assert client.get("/stats.json?bots=maybe").status_code == 400
    html = client.get("/stats").get_data(as_text=True)
    assert "Bots left out: 49 posts" in html and "bots=include" in html
    html = client.get("/stats?bots=include").get_data(as_text=True)
    assert "Bots included: 49 posts" in html and 'name="bots" value="include"' in html
    posters = client.get("/stats/people.json?limit=1000").get_json()["posters"]
    assert trac not in [p["person"] for p in posters]
    posters = client.get("/stats/people.json?limit=1000&bots=include").get_json()["posters"]
    assert trac in [p["person"] for p in posters]
    for path in ("/stats/responses", "/stats/network", "/stats/cohorts"):
        assert client.get(f"{path}.json").get_json()["scope"]["bots_excluded_posts"] == 49
        assert "Bots left out" in client.get(path).get_data(as_text=True)
    unanswered = client.get("/stats/responses.csv").get_data(as_text=True)
    assert "trac" not in unanswered
    assert "trac" in client.get("/stats/responses.csv?bots=include").get_data(as_text=True)
    # a bot's own page counts its posts; another person's page leaves bots out
    own = client.get(f"/persons/{trac}.json").get_json()
    assert own["bot"] == "bot" and own["activity"]["messages"] == TRAC_POSTS
    assert client.get(f"/persons/{trac}.json?bots=exclude").get_json()["activity"]["messages"] == 0
    assert client.get(f"/persons/{glyph}.json").get_json()["scope"]["bots"] == "excluded"
    assert "Not a bot" in client.get(f"/persons/{trac}").get_data(as_text=True)

    # undone through the merge record: counted again, suggested again
    events = client.get("/persons/events.json").get_json()["events"]
    assert events[0]["action"] == "bot" and events[0]["detail"]["reason"] == "weekly bug summaries"
    assert "Undo" in client.get("/persons/events").get_data(as_text=True)
    undo = client.post(
        f"/persons/events/{events[0]['id']}/undo",
        data={"csrf_token": session.csrf},
        headers={"Accept": "application/json"},
    )
    assert undo.status_code == 200
    assert client.get("/stats.json").get_json()["totals"]["messages"] == ALL
    assert [s["key"] for s in client.get("/persons/bots.json").get_json()["suggestions"]] == [trac]


def test_not_a_bot_suppresses_the_suggestion(app: Flask, data: Path, client: FlaskClient) -> None:
    trac = _key(data, "trac@twistedmatrix.com")
    session = login(client, app, "facilitator")
    answer = client.post(
        f"/persons/{trac}/bot",
        data={"csrf_token": session.csrf, "state": "not-bot", "next": "/persons/bots"},
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/persons/bots")
    found = client.get("/persons/bots.json").get_json()
    assert found["suggestions"] == []
    assert [(m["key"], m["state"]) for m in found["marked"]] == [(trac, "not-bot")]
    # a "not a bot" is counted like everyone
    assert client.get("/stats.json").get_json()["totals"]["messages"] == ALL
    bad = client.post(f"/persons/{trac}/bot", data={"csrf_token": session.csrf, "state": "robot"})
    assert bad.status_code == 400
    unknown = client.post("/persons/pnosuchperson/bot", data={"csrf_token": session.csrf})
    assert unknown.status_code == 404


def _run(data: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_marks_lists_and_stats_switch(data: Path) -> None:
    trac = _key(data, "trac@twistedmatrix.com")
    listed = json.loads(_run(data, "persons", "bots", "--json"))
    assert [s["key"] for s in listed["suggestions"]] == [trac]
    assert "suggested" in _run(data, "persons", "bots")
    marked = json.loads(_run(data, "persons", "bot", trac, "--reason", "trac", "--json"))
    assert marked["state"] == "bot" and marked["event"] > 0
    assert "already marked a bot" in _run(data, "persons", "bot", trac)
    listed = json.loads(_run(data, "persons", "bots", "--json"))
    assert listed["suggestions"] == [] and listed["marked"][0]["actor"].startswith("cli")
    out = json.loads(_run(data, "stats", "--json"))
    assert out["scope"]["bots"] == "excluded" and out["scope"]["bots_excluded_posts"] == 49
    assert out["totals"]["messages"] == ALL - TRAC_POSTS
    both = json.loads(_run(data, "stats", "--json", "--include-bots"))
    assert both["scope"]["bots"] == "included" and both["totals"]["messages"] == ALL
    assert "bots left out: 49 posts" in _run(data, "stats")
    undone = json.loads(_run(data, "persons", "not-bot", trac, "--json"))
    assert undone["state"] == "not-bot"
    assert json.loads(_run(data, "stats", "--json"))["totals"]["messages"] == ALL
    bad = CliRunner().invoke(cli, ["--data-dir", str(data), "persons", "bot", "pnosuch"])
    assert bad.exit_code == 1 and "unknown person" in bad.output


def test_people_page_leaves_suggested_bots_out_and_badges_only_windowed_newcomers(
    data: Path, app: Flask, client: FlaskClient
) -> None:
    # issue 13: every row had a "new" badge and a bot led the list
    login(client, app)
    trac = _key(data, "trac@twistedmatrix.com")
    default = client.get("/stats/people.json?limit=50").get_json()
    assert trac not in [p["person"] for p in default["posters"]]
    assert trac in default["suggested_bots_hidden"]
    csv_keys = client.get("/stats/people.csv").get_data(as_text=True)
    assert trac not in csv_keys
    included = client.get("/stats/people.json?limit=50&bots=include").get_json()
    assert trac in [p["person"] for p in included["posters"]]
    # the whole archive: everyone's first post is inside, so no badge, and the page says why
    assert not default["new_defined"] and not any(p["new"] for p in default["posters"])
    page = client.get("/stats/people?limit=50").get_data(as_text=True)
    assert '<span class="badge">new</span>' not in page and "everyone would be new" in page
    # a window from July: only persons whose first post is from July on are new
    july = client.get("/stats/people.json?limit=200&start=2018-07-01").get_json()
    assert july["new_defined"]
    assert {p["person"] for p in july["posters"] if p["new"]} == {
        p["person"] for p in july["posters"] if p["first"] >= "2018-07-01" and p["newcomer"]
    }
    assert 0 < sum(p["new"] for p in july["posters"]) < len(july["posters"])
