"""Search facets name persons, never addresses: over a store whose sender writes from two
addresses (merged into one person), anonymous and logged-in visitors see the person once, with
the summed count, and facet links filter with ``person:KEY`` (issue 11)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import identities, merges
from store.store import Store
from tests.support.stores import index_store
from tests.support.webauth import login
from webui import create_app

ADDRESSES = ("formula@example.com", "formula@example.org")
OTHER = "bystander@example.net"


def _mbox(path: Path) -> Path:
    start = datetime(2020, 3, 1, tzinfo=UTC)
    messages = []
    senders = [("Formula One", ADDRESSES[0])] * 3 + [("Formula One", ADDRESSES[1])] * 2
    senders += [("Bystander", OTHER)] * 4
    for number, (name, address) in enumerate(senders):
        messages.append(
            f"From {address} Sun Mar  1 10:00:00 2020\n"
            f"From: {name} <{address}>\n"
            f"Subject: carburettor tuning {number}\n"
            f"Date: {format_datetime(start + timedelta(days=number))}\n"
            f"Message-ID: <m{number}@example.com>\n\n"
            f"About the carburettor, part {number}.\n\n"
        )
    path.write_text("".join(messages))
    return path


@pytest.fixture()
def app(tmp_path: Path) -> Flask:
    data = tmp_path / "data"
    volume = str(_mbox(tmp_path / "cars.mbox"))
    store = Store(data / "store.db")
    try:
        store.add_list("cars", "mbox", paths=[volume])
        assert sync_list(store, "cars", MboxSource([volume]), workers=1).clean
        keys = []
        for address in ADDRESSES:
            person = identities.find_by_address(store.conn, address)
            assert person is not None
            found = identities.get_person(store.conn, person)
            assert found is not None
            keys.append(found.key)
        merges.merge(store.conn, keys[0], [keys[1]], "test")  # one person, two addresses
        index_store(store, data)
    finally:
        store.close()
    return create_app(load_settings(env={}, overrides={"data_dir": data}))


def _senders(client: FlaskClient) -> list[dict[str, Any]]:
    data = client.get("/search.json?q=carburettor").get_json()
    senders: list[dict[str, Any]] = data["facets"]["sender"]
    return senders


def _check_person_facets(app: Flask, client: FlaskClient) -> None:
    api = client.get("/api/search?q=carburettor&facets=1")
    assert api.status_code == 200
    data = api.get_json()
    assert "@" not in str(data["facets"])
    assert "from:" not in str(data["facets"])
    (formula, bystander) = data["facets"]["sender"]
    assert formula[1:] == [5, "Formula One"] and bystander[1:] == [4, "Bystander"]
    assert re.fullmatch(r"p[a-z2-7]{12}", formula[0])

    senders = _senders(client)
    assert [(s["value"], s["count"]) for s in senders] == [("Formula One", 5), ("Bystander", 4)]
    assert senders[0]["key"] == formula[0]
    assert senders[0]["query"] == f"carburettor person:{formula[0]}"
    assert "@" not in str(senders) and "from:" not in str(senders)
    by_person = client.get(senders[0]["url"].replace("/search?", "/search.json?")).get_json()
    assert by_person["total"] == 5
    assert {h["from_name"] for h in by_person["hits"]} == {"Formula One"}
    toggled = client.get(
        by_person["facets"]["sender"][0]["url"].replace("/search?", "/search.json?")
    )
    assert toggled.get_json()["query"] == "carburettor"

    html = client.get("/search?q=carburettor").get_data(as_text=True)
    facets = html.split('<nav id="facets"', 1)[1].split("</nav>", 1)[0]
    assert "@" not in facets and "from%3A" not in facets and "from:" not in facets
    links = re.findall(r'data-facet="sender" href="([^"]+)"', facets)
    assert len(links) == 2 and f"person%3A{formula[0]}" in links[0]
    assert facets.count("Formula One") == 1


def test_anonymous_facets_are_persons_never_addresses(app: Flask) -> None:
    _check_person_facets(app, app.test_client())


def test_logged_in_facets_are_persons_too(app: Flask) -> None:
    client = app.test_client()
    login(client, app, "facilitator")
    _check_person_facets(app, client)


def test_unknown_person_is_a_400(app: Flask) -> None:
    response = app.test_client().get("/search.json?q=person:pnobodyatall")
    assert response.status_code == 400
    assert "not a known person" in response.get_json()["error"]["message"]


def test_exports_filter_by_person(app: Flask) -> None:
    client = app.test_client()
    (formula, _) = client.get("/api/search?q=carburettor&facets=1").get_json()["facets"]["sender"]
    csv = client.get(f"/search.csv?q=person:{formula[0]}").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + 5
    mbox = client.get(f"/search.mbox?q=person:{formula[0]}").get_data()
    assert mbox.count(b"\nFrom: Formula One <formula@example.") == 5
