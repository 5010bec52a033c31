"""A removed message never shows in search hits while the index is out of step with the store
(issue 14, task CL3).  A removal the index could not follow at once (the web UI's refresh
failed, or found the embedded index out of step and left the rebuild to the next sync) leaves
the message's document in the index until then; searches leave it out all the same, on both
backends, for an anonymous visitor and a facilitator, on the page and its JSON twin, and the
total and the facets count as if the index had followed the removal.

The index is put out of step by removing in the store alone (`store.removals.remove`, no
index refresh: what a failed refresh leaves), and, for the embedded index, by a purge made in
the web UI whose refresh finds the indexed text gone (`test_removal_out_of_step`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from search import indexer
from search.factory import open_configured
from search.reader import removed_in_index
from store import removals
from store.store import Store
from store.visibility import for_reader
from tests.search.conftest import BACKENDS
from tests.support.es_app import es_app
from tests.support.webauth import login
from tests.webui.test_removal_walk import Archive, _app, _build

REMOVED = "Quokka marzipan plan"
PAGE_SECRETS = ("marzipan plan", "Ximena Torvaldsen", "555-0199")
"""What the removed message's hit would show (its subject, sender, snippet), which none of
the queries holds (the page and its twin say the query again)."""
QUERIES = ("quokkasecret", "Quokka marzipan", "from:ximena@erased.example", "after:1990")


@pytest.fixture(params=BACKENDS)
def archive_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Archive, Flask]]:
    archive = _build(tmp_path)
    if request.param == "sqlite":
        yield archive, _app(archive)
        return
    with es_app(archive.data) as app:
        yield archive, app


def _remove_in_the_store_only(archive: Archive) -> str:
    """Remove `REMOVED` as the web UI does, its index refresh left undone (as if it failed)."""
    store = Store(archive.data / "store.db")
    try:
        key = archive.keys[REMOVED]
        removals.remove(store.conn, "message", key, [key], reason="r", actor="test")
    finally:
        store.close()
    return key


def _searches(client: FlaskClient, query: str) -> tuple[dict[str, Any], str]:
    data = client.get("/search.json", query_string={"q": query, "facets": "1"})
    page = client.get("/search", query_string={"q": query})
    assert data.status_code == page.status_code == 200, data.get_data(as_text=True)[:300]
    found = data.get_json()
    assert isinstance(found, dict)
    return found, page.get_data(as_text=True)


def _facet_total(data: dict[str, Any], name: str) -> int:
    return sum(int(entry["count"]) for entry in data["facets"].get(name, []))


def _check_gone(client: FlaskClient, key: str, visible: int) -> None:
    for query in QUERIES:
        data, page = _searches(client, query)
        keys = [hit["id"] for hit in data["hits"]]
        assert key not in keys, (query, keys)
        for shown in (str(data["hits"]), str(data["facets"]), page):
            assert key not in shown, query
            assert not [s for s in PAGE_SECRETS if s in shown], (query, shown[:500])
        if query == "after:1990":  # every visible message, and the facets count them so
            assert data["total"] == len(keys) == visible
            assert _facet_total(data, "list") == visible
        else:
            assert data["total"] == 0 and keys == []
            assert _facet_total(data, "list") == 0


def _before(client: FlaskClient, key: str) -> int:
    """The search finds the message before its removal; how many messages it holds."""
    data, _page = _searches(client, "quokkasecret")
    assert [hit["id"] for hit in data["hits"]] == [key]
    everything, _page = _searches(client, "after:1990")
    return int(everything["total"])


def test_a_removal_the_index_missed_leaves_no_hit(archive_app: tuple[Archive, Flask]) -> None:
    archive, app = archive_app
    key = archive.keys[REMOVED]
    anonymous = app.test_client()
    held = _before(anonymous, key)
    _remove_in_the_store_only(archive)
    _check_gone(anonymous, key, held - 1)
    facilitator = app.test_client()
    login(facilitator, app, "facilitator")
    _check_gone(facilitator, key, held - 1)
    # the next catch-up deletes the document: nothing is left out any more, the same answers
    store = Store(archive.data / "store.db")
    backend = open_configured(app.config["LISTARCHIVE_SETTINGS"])
    try:
        indexer.catch_up(store, backend)
        viewer = for_reader(store.conn, include_private=False)
        assert removed_in_index(store.conn, backend, viewer) == ()
    finally:
        backend.close()
        store.close()
    _check_gone(anonymous, key, held - 1)


def test_a_purge_the_embedded_index_cannot_follow_leaves_no_hit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web UI's own purge, its refresh finding the index out of step (the rebuild is
    left to the next sync): the document stays in the index, and out of every search."""
    archive = _build(tmp_path)
    key = archive.keys[REMOVED]
    index = sqlite3.connect(archive.data / "search-fts.db")
    with index:  # its indexed text is found nowhere any more
        index.execute("UPDATE docs SET text_hash = text_hash + 1 WHERE key = ?", (key,))
    index.close()
    monkeypatch.setattr(indexer, "rebuild", lambda *args, **kwargs: 0)
    app = _app(archive)
    anonymous = app.test_client()
    held = _before(anonymous, key)
    secretariat = app.test_client()
    session = login(secretariat, app, "secretariat")
    made = secretariat.post(
        f"/messages/{key}/remove",
        data={"csrf_token": session.csrf, "purge": "1", "confirm_purge": "1"},
        headers={"Accept": "application/json"},
    )
    assert made.status_code == 200 and made.get_json()["index_error"]
    index = sqlite3.connect(archive.data / "search-fts.db")
    try:  # still indexed
        assert index.execute("SELECT count(*) FROM docs WHERE key = ?", (key,)).fetchone() == (1,)
    finally:
        index.close()
    _check_gone(anonymous, key, held - 1)
    facilitator = app.test_client()
    login(facilitator, app, "facilitator")
    _check_gone(facilitator, key, held - 1)
