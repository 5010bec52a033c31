"""Removed messages are gone from every route, for every reader (issue 12).

A store of hand-made mail (`tests/support/removal_mail.py`) is indexed, then the secretariat
removes through the web UI: one message (the root `Q1` of a thread whose reply stays), a
whole thread (`W1`, `W2`) and one of two messages sharing a Message-ID (`Y1`).  Every GET
rule of the app is then requested as an anonymous visitor, a facilitator and the
secretariat (parameters filled from the store, JSON/CSV twins, query variants), and no word,
key or thread id of the removed messages may appear in any body or header, except on the
secretariat's removals page.  Counts drop; the reply stays with no parent; undo brings all
back; the actions need the secretariat role and the CSRF token."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.support.removal_mail import ALPHA, H1, REMOVED_WORDS
from tests.support.route_walk import filled, leaks_in
from tests.support.stores import index_store
from tests.support.webauth import WebLogin, login
from webui import create_app

LIST = "alpha"


@dataclass(frozen=True)
class Archive:
    data: Path
    keys: dict[str, str]  # subject -> key
    threads: dict[str, str]  # subject -> thread id

    def secrets(self) -> tuple[str, ...]:
        removed = ("Quokka marzipan plan", "Walrus ledger review", "Re: Walrus ledger review")
        return (
            *REMOVED_WORDS,
            *(self.keys[s] for s in (*removed, "Yeti confession")),
            self.threads["Walrus ledger review"],
        )


def _build(root: Path) -> Archive:
    data = root / "data"
    volume = root / "alpha-2020.mbox"
    volume.write_text("".join((*ALPHA, H1)))
    store = Store(data / "store.db")
    try:
        store.add_list(LIST, "mbox", paths=[str(volume)])
        summary = sync_list(store, LIST, MboxSource([str(volume)]), workers=1)
        assert summary.clean and summary.new_messages == 7, summary.as_dict()
        index_store(store, data)
        rows = store.conn.execute("SELECT subject, key, thread_id FROM messages").fetchall()
    finally:
        store.close()
    return Archive(data, {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows})


def _app(archive: Archive) -> Flask:
    return create_app(load_settings(env={}, overrides={"data_dir": archive.data}))


def _remove(client: FlaskClient, session: WebLogin, archive: Archive) -> None:
    keys, threads = archive.keys, archive.threads
    for url, form in (
        (f"/messages/{keys['Quokka marzipan plan']}/remove", {"reason": "personal data"}),
        (f"/threads/{threads['Walrus ledger review']}/remove", {"reason": "off-topic"}),
        (f"/messages/{keys['Yeti confession']}/remove", {"reason": "asked by the author"}),
    ):
        response = client.post(url, data={**form, "csrf_token": session.csrf})
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        assert response.headers["Location"].endswith("/removals")


@pytest.fixture(scope="module")
def removed(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    archive = _build(tmp_path_factory.mktemp("removed"))
    app = _app(archive)
    client = app.test_client()
    _remove(client, login(client, app, "secretariat"), archive)
    return archive


# -- the walk ----------------------------------------------------------------------------------

_SEARCHES = ("?q=after:1990", "?q=after:1990&facets=1", "?q=quokkasecret", "?q=walrus OR yeti")


def _variants(endpoint: str) -> tuple[str, ...]:
    if endpoint in ("search_pages.search", "api.search") or endpoint.startswith("exports.search"):
        return _SEARCHES
    if endpoint.startswith("stats."):
        return ("", f"?list={LIST}", "?table=threads_by_replies", "?period=week&limit=100")
    if endpoint.startswith("pages.thread"):
        return ("", "?view=flat")
    return ("",)


def _urls(app: Flask, archive: Archive) -> Iterator[tuple[str, str]]:
    conn = sqlite3.connect(archive.data / "store.db")
    try:
        persons = [str(r[0]) for r in conn.execute("SELECT key FROM persons")]
    finally:
        conn.close()
    values: dict[str, list[str]] = {
        "name": [LIST],
        "old_name": [LIST],
        "period": ["alpha-2020"],
        "page": ["index.html", "thread.html", "date.html", "000000.html", "000001.html"],
        "thread_id": sorted(set(archive.threads.values())),
        "key": [*sorted(archive.keys.values()), *persons],
        "community": ["nocom"],
    }
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        names = sorted(rule.arguments)
        # a route added since (an id of something else): the first one
        for path in filled(rule.rule, names, [values.get(n, ["1"]) for n in names]):
            for variant in _variants(rule.endpoint):
                yield rule.endpoint, path + variant


@pytest.mark.parametrize("role", ["anonymous", "facilitator", "secretariat"])
def test_every_route_hides_removed_messages(removed: Archive, role: str) -> None:
    app = _app(removed)
    client = app.test_client()
    if role != "anonymous":
        login(client, app, role)
    leaks: list[str] = []
    errors: list[str] = []
    requested = 0
    for endpoint, url in _urls(app, removed):
        if endpoint.startswith("removals."):  # the secretariat's record names what it hid
            continue
        response = client.get(url)
        requested += 1
        if response.status_code >= 500:
            errors.append(f"{url}: {response.status_code}")
        leaks += leaks_in(response, url, endpoint, removed.secrets())
    assert requested > 150
    assert not errors, errors
    assert not leaks, "\n".join(leaks[:200]) + f"\n... {len(leaks)} leaks in all"


def _json(client: FlaskClient, url: str, status: int = 200) -> dict[str, object]:
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
    found = response.get_json()
    assert isinstance(found, dict)
    return found


def test_counts_pages_and_the_record(removed: Archive) -> None:
    app = _app(removed)
    client = app.test_client()
    keys = removed.keys
    for url in (
        f"/messages/{keys['Quokka marzipan plan']}",
        f"/messages/{keys['Quokka marzipan plan']}.json",
        f"/messages/{keys['Quokka marzipan plan']}/source",
        f"/threads/{removed.threads['Walrus ledger review']}",
    ):
        assert client.get(url).status_code == 404, url
    home = _json(client, "/index.json")
    assert [item["messages"] for item in home["lists"]] == [3]  # type: ignore[attr-defined]
    assert _json(client, "/stats.json")["totals"]["messages"] == 3  # type: ignore[index]
    assert _json(client, "/api/search?q=after:1990")["total"] == 3
    # the root is gone, its reply stays, answering nobody known
    reply = _json(client, f"/messages/{keys['Follow-up on the plan']}.json")["message"]
    assert isinstance(reply, dict) and reply["parent_key"] is None
    thread = _json(client, f"/threads/{removed.threads['Follow-up on the plan']}.json")
    assert thread["thread"]["message_count"] == 1  # type: ignore[index]
    # a reused Message-ID: the other message stays
    assert client.get(f"/messages/{keys['Harmless note']}").status_code == 200

    assert _json(client, "/removals.json", 401)
    login(client, app, "secretariat")
    record = _json(client, "/removals.json")["removals"]
    assert isinstance(record, list) and len(record) == 3
    assert [r["kind"] for r in record] == ["message", "thread", "message"]
    assert record[1]["reason"] == "off-topic" and record[1]["actor"].startswith("web:secretariat")
    assert "Walrus ledger review" in record[1]["subjects"]
    assert all(r["undo_url"] for r in record)
    page = client.get("/removals").get_data(as_text=True)
    assert "personal data" in page and "Undo" in page
    assert "off-topic" in client.get("/removals.csv").get_data(as_text=True)


def test_actions_need_the_secretariat_and_the_token_and_undo_restores(
    tmp_path: Path,
) -> None:
    archive = _build(tmp_path)
    app = _app(archive)
    key = archive.keys["Quokka marzipan plan"]
    url = f"/messages/{key}/remove"
    anonymous = app.test_client()
    assert anonymous.post(url, data={"reason": "x"}).status_code in (400, 403)
    facilitator = app.test_client()
    session = login(facilitator, app, "facilitator")
    assert facilitator.post(url, data={"csrf_token": session.csrf}).status_code == 403
    client = app.test_client()
    session = login(client, app, "secretariat")
    assert client.post(url, data={"reason": "no token"}).status_code in (400, 403)
    page = client.get(f"/messages/{key}").get_data(as_text=True)
    assert 'id="remove-form"' in page  # the action is offered to the secretariat
    assert 'id="remove-form"' not in facilitator.get(f"/messages/{key}").get_data(as_text=True)
    assert (
        client.post(
            url, data={"csrf_token": session.csrf, "purge": "1"}, headers={"Accept": "text/html"}
        ).status_code
        == 400
    )  # a purge must be confirmed
    made = client.post(
        url,
        data={"csrf_token": session.csrf, "reason": "personal data"},
        headers={"Accept": "application/json"},
    )
    assert made.status_code == 200
    removal = made.get_json()
    assert removal["messages"] == [key] and removal["index_error"] == ""
    assert client.get(f"/messages/{key}").status_code == 404
    assert _json(client, "/api/search?q=quokkasecret")["total"] == 0
    assert _json(client, "/stats.json")["totals"]["messages"] == 6  # type: ignore[index]

    undone = client.post(
        removal["undo_url"],
        data={"csrf_token": session.csrf},
        headers={"Accept": "application/json"},
    )
    assert undone.status_code == 200 and undone.get_json()["active"] is False
    assert client.get(f"/messages/{key}").status_code == 200
    assert _json(client, "/api/search?q=quokkasecret")["total"] == 1
    assert _json(client, "/stats.json")["totals"]["messages"] == 7  # type: ignore[index]
    again = client.post(removal["undo_url"], data={"csrf_token": session.csrf})
    assert again.status_code == 409
