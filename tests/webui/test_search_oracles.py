"""Search is no oracle for private data (issue 11): for an anonymous visitor, a private list and
a person known only from private posts answer byte for byte as an unknown list or person does
(apart from the echoed name), on every route that takes a list or a person, on both search
backends; persons are named from public posts only; unknown lists are refused for everyone
(issue 13), and a refused search keeps the HTML search page with the reason beside the query.

The store is the visibility walk's (`test_visibility_walk.mixed`): `hushlist` is private,
`pub-list` public, one public message is also on `hushlist`, Valentina posts only privately,
and Oscar signs "Oscar Zedwhisper" more often on `hushlist` than "Oscar Plainview" in public."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from store import merges
from store.store import Store
from tests.search.conftest import BACKENDS
from tests.support.es_app import es_app
from tests.support.webauth import login
from tests.webui.test_visibility_walk import PRIVATE_LIST, Mixed, mixed
from webui import create_app

__all__ = ["mixed"]  # the module fixture, shared with the walk

UNKNOWN_LIST = "nosuchlist"
UNKNOWN_PERSON = "pzzzzzzzzzzzz"  # the shape of a person key (see store.identities)
NAME = "@@NAME@@"


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, mixed: Mixed) -> Iterator[Flask]:
    """The app over the mixed store, searching through each backend."""
    if request.param == "sqlite":
        yield create_app(load_settings(env={}, overrides={"data_dir": mixed.data}))
        return
    with es_app(mixed.data) as app:
        yield app


def _person(data: Path, address: str) -> str:
    conn = sqlite3.connect(data / "store.db")
    try:
        row = conn.execute(
            "SELECT p.key FROM persons p JOIN identities i ON i.person = p.id "
            "WHERE i.kind = 'address' AND i.value = ?",
            (address,),
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, address
    return str(row[0])


def _answer(client: FlaskClient, url: str, name: str) -> tuple[int, str, str]:
    response = client.get(url.replace(NAME, name))
    body = response.get_data(as_text=True).replace(name, NAME)
    return response.status_code, str(response.content_type), body


LIST_URLS = (
    f"/search.json?q=list:{NAME}",
    f"/search.json?q=list:{NAME}&facets=1",
    f"/search.json?q=budget&list={NAME}",
    f"/search.json?list={NAME}",
    f"/search?q=list:{NAME}",
    f"/search?q=budget&list={NAME}",
    f"/search?list={NAME}",
    f"/api/search?q=list:{NAME}&facets=1",
    f"/api/search?q=budget&list={NAME}",
    f"/search.csv?q=list:{NAME}",
    f"/search.csv?q=budget&list={NAME}",
    f"/search.mbox?q=list:{NAME}",
    f"/search.mbox?list={NAME}",
    f"/stats?list={NAME}",
    f"/stats.json?list={NAME}",
    f"/stats.csv?list={NAME}",
    f"/lists/{NAME}/",
    f"/lists/{NAME}.json",
    f"/lists/{NAME}/hush-2020/",
    f"/lists/{NAME}/hush-2020.json",
    f"/lists/{NAME}/hush-2020.mbox",
)
PERSON_URLS = (
    f"/search.json?q=person:{NAME}",
    f"/search.json?q=budget person:{NAME}&facets=1",
    f"/search?q=person:{NAME}",
    f"/api/search?q=person:{NAME}&facets=1",
    f"/search.csv?q=person:{NAME}",
    f"/search.mbox?q=person:{NAME}",
)


def test_a_private_list_answers_as_an_unknown_one(app: Flask) -> None:
    client = app.test_client()
    for url in LIST_URLS:
        hidden = _answer(client, url, PRIVATE_LIST)
        unknown = _answer(client, url, UNKNOWN_LIST)
        assert hidden == unknown, url
        assert hidden[0] in (400, 404), (url, hidden)
    refused = client.get(f"/search.json?q=list:{PRIVATE_LIST}").get_json()
    assert refused == {"error": {"status": 400, "message": f"unknown list {PRIVATE_LIST!r}"}}


def test_a_person_with_private_posts_only_answers_as_an_unknown_one(
    app: Flask, mixed: Mixed
) -> None:
    client = app.test_client()
    valentina = _person(mixed.data, "valentina@hush.example")
    for url in PERSON_URLS:
        hidden = _answer(client, url, valentina)
        unknown = _answer(client, url, UNKNOWN_PERSON)
        assert hidden == unknown, url
        assert hidden[0] == 400, (url, hidden)
    # a person with public posts is found; a logged-in account finds Valentina
    paula = _person(mixed.data, "paula@open.example")
    assert client.get(f"/search.json?q=person:{paula}").get_json()["total"] == 3
    login(client, app, "facilitator")
    assert client.get(f"/search.json?q=person:{valentina}").get_json()["total"] == 2


def _oscar(facets: list[list[object]], key: str) -> object:
    return next(entry[2] for entry in facets if entry[0] == key)


def test_persons_are_named_from_the_posts_the_reader_may_read(app: Flask, mixed: Mixed) -> None:
    client = app.test_client()
    oscar = _person(mixed.data, "oscar@open.example")
    anonymous = client.get("/api/search?q=after:1990&facets=1").get_json()
    assert _oscar(anonymous["facets"]["sender"], oscar) == "Oscar Plainview"
    page = client.get("/search.json?q=after:1990").get_json()
    assert {f["value"] for f in page["facets"]["sender"]} == {"Oscar Plainview", "Paula Openshaw"}
    html = client.get("/search?q=after:1990").get_data(as_text=True)
    assert "Oscar Plainview" in html and "Zedwhisper" not in html
    login(client, app, "facilitator")  # the store's name: the one signed most often
    full = client.get("/api/search?q=after:1990&facets=1").get_json()
    assert _oscar(full["facets"]["sender"], oscar) == "Oscar Zedwhisper"


def test_unknown_lists_are_refused_for_everyone(app: Flask) -> None:
    client = app.test_client()
    login(client, app, "facilitator")
    for url in (f"/search.json?q=list:{UNKNOWN_LIST}", f"/api/search?q=x&list={UNKNOWN_LIST}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.get_json()["error"]["message"] == f"unknown list {UNKNOWN_LIST!r}"
    # a logged-in account sees the private list: its search answers
    found = client.get(f"/search.json?q=list:{PRIVATE_LIST}").get_json()
    assert found["total"] == 8
    assert client.get(f"/search.json?q=list:{PRIVATE_LIST.upper()}").get_json()["total"] == 8


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("after:2020-13-01", "after:2020-13-01 is not a valid date"),
        (f"budget list:{UNKNOWN_LIST}", f"unknown list &#39;{UNKNOWN_LIST}&#39;"),
    ],
)
def test_a_refused_search_keeps_the_search_page(app: Flask, query: str, reason: str) -> None:
    client = app.test_client()
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<form role="search"' in html
    assert f'value="{query}"' in html
    error = html.split('<p id="search-error"', 1)[1].split("</p>", 1)[0]
    assert reason in error
    assert 'id="total"' not in html
    twin = client.get("/search.json", query_string={"q": query})
    assert twin.status_code == 400
    assert twin.get_json()["error"]["status"] == 400


def _merged(mixed: Mixed, tmp_path: Path, into: str, others: list[str]) -> tuple[Path, Flask]:
    """A copy of the mixed store with the persons of addresses `others` merged into `into`'s,
    and the app over it (SQLite search: persons resolve in the store for both backends)."""
    data = tmp_path / "data"
    shutil.copytree(mixed.data, data)
    keys = [_person(data, address) for address in (into, *others)]
    store = Store(data / "store.db")
    try:
        merges.merge(store.conn, keys[0], keys[1:], "test")
        store.conn.commit()
    finally:
        store.close()
    return data, create_app(load_settings(env={}, overrides={"data_dir": data}))


def _refused_as_unknown(client: FlaskClient, key: str) -> None:
    for url in PERSON_URLS:
        hidden = _answer(client, url, key)
        assert hidden == _answer(client, url, UNKNOWN_PERSON), url
        assert hidden[0] == 400, (url, hidden)


def test_a_merged_away_key_answers_only_for_its_own_visible_posts(
    mixed: Mixed, tmp_path: Path
) -> None:
    """The old key of an address known only from private posts, merged into a public poster,
    answers as an unknown key (not with the public poster's messages); an old key of a public
    address still finds the person it was merged into."""
    valentina = _person(mixed.data, "valentina@hush.example")
    oscar = _person(mixed.data, "oscar@open.example")
    paula = _person(mixed.data, "paula@open.example")
    _, app = _merged(
        mixed, tmp_path, "paula@open.example", ["valentina@hush.example", "oscar@open.example"]
    )
    client = app.test_client()
    _refused_as_unknown(client, valentina)
    assert client.get(f"/search.json?q=person:{oscar}").get_json()["total"] == 5
    assert client.get(f"/search.json?q=person:{paula}").get_json()["total"] == 5


def test_a_public_poster_merged_into_a_private_one_is_shown_by_a_public_key(
    mixed: Mixed, tmp_path: Path
) -> None:
    """Paula merged into Valentina (known only from private posts): the live key is the hash
    of Valentina's address, so anonymous readers are shown, and may search by, Paula's own
    key instead; Valentina's key answers them as an unknown one; accounts see the live key."""
    valentina = _person(mixed.data, "valentina@hush.example")
    paula = _person(mixed.data, "paula@open.example")
    _, app = _merged(mixed, tmp_path, "valentina@hush.example", ["paula@open.example"])
    client = app.test_client()
    facets = client.get("/api/search?q=after:1990&facets=1").get_json()["facets"]["sender"]
    assert [paula, 3, "Paula Openshaw"] in facets
    html = client.get("/search?q=budget").get_data(as_text=True)
    assert f"person%3A{paula}" in html and valentina not in html
    assert client.get(f"/search.json?q=person:{paula}").get_json()["total"] == 3
    _refused_as_unknown(client, valentina)
    login(client, app, "facilitator")
    facets = client.get("/api/search?q=after:1990&facets=1").get_json()["facets"]["sender"]
    assert valentina in [entry[0] for entry in facets]
