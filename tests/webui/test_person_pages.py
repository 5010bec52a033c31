"""Persons pages: facilitator-only, JSON/CSV twins, merge suggestions confirmed and undone
through CSRF-protected forms, merged keys redirecting to the survivor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.conftest import CORPUS
from tests.support.webauth import login
from webui import create_app

USRP = CORPUS / "hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz"
ZENG = ("pwvwmwvdvailu", "prqhmvwjxin6p")  # "Zeng, Huacheng" (12 posts), "Huacheng Zeng" (2)


@pytest.fixture(scope="module")
def usrp_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("persons") / "data"
    store = Store(data / "store.db")
    try:
        store.add_list("usrp", "mbox", paths=[str(USRP)])
        assert sync_list(store, "usrp", MboxSource([str(USRP)]), workers=1).clean
    finally:
        store.close()
    return data


@pytest.fixture()
def app(usrp_data: Path, tmp_path: Path) -> Flask:
    data = tmp_path / "data"
    shutil.copytree(usrp_data, data)  # each test may merge: a fresh copy each
    settings = load_settings(env={}, overrides={"data_dir": data, "web.secure_cookies": False})
    return create_app(settings)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_anonymous_visitors_never_see_persons(client: FlaskClient) -> None:
    assert client.get("/persons").status_code == 302
    assert client.get("/persons.json").status_code == 401
    assert client.get("/persons.csv").status_code == 401
    assert client.get(f"/persons/{ZENG[0]}.json").status_code == 401
    assert client.get("/persons/suggestions.json").status_code == 401
    assert client.post("/persons/merge", data={"into": ZENG[0], "other": ZENG[1]}).status_code in (
        400,
        401,
    )


def test_directory_page_json_and_csv(app: Flask, client: FlaskClient) -> None:
    login(client, app, "facilitator")
    data = client.get("/persons.json?q=leech").get_json()
    assert data["total"] == 1
    assert data["persons"][0]["name"] == "Marcus D Leech"
    assert data["persons"][0]["messages"] == 131
    page = client.get("/persons?q=leech").get_data(as_text=True)
    assert "Marcus D Leech" in page and "patchvonbraun@gmail.com" in page
    csv_text = client.get("/persons.csv").get_data(as_text=True)
    lines = csv_text.splitlines()
    assert lines[0] == "key,name,messages,first,last,addresses"
    assert len(lines) == 1 + 121
    assert lines[1].split(",")[1:5] == ["Marcus D Leech", "131", "2021-03-03", "2021-05-31"]
    assert client.get("/persons.json?page=0").status_code == 400


def test_confirm_a_suggestion_then_undo_it(app: Flask, client: FlaskClient) -> None:
    session = login(client, app, "facilitator")
    suggestions = client.get("/persons/suggestions.json").get_json()["suggestions"]
    assert [[p["key"] for p in s["persons"]] for s in suggestions] == [list(ZENG)]
    page = client.get("/persons/suggestions").get_data(as_text=True)
    assert "Same person" in page and "Different people" in page
    # without the CSRF token the form is refused
    refused = client.post("/persons/merge", data={"into": ZENG[0], "other": ZENG[1]})
    assert refused.status_code == 400
    done = client.post(
        "/persons/merge",
        data={"into": ZENG[0], "other": ZENG[1], "csrf_token": session.csrf},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/persons/{ZENG[0]}")
    # the merged key now leads to the survivor, whose page lists both addresses
    moved = client.get(f"/persons/{ZENG[1]}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(ZENG[0])
    person = client.get(f"/persons/{ZENG[0]}.json").get_json()
    assert {i["value"] for i in person["identities"]} == {
        "huacheng.zeng@gmail.com",
        "zenghuacheng@gmail.com",
    }
    # checked with the stdlib over the mbox: 2 posts from zenghuacheng@ (2021-04-22 17:00 UTC
    # and 2021-05-17) and 12 from huacheng.zeng@ (2021-04-22 17:18 .. 2021-05-31 18:07 UTC)
    activity = person["activity"]
    assert [(r["list"], r["messages"]) for r in activity["lists"]] == [("usrp", 14)]
    assert activity["first"][:16] == "2021-04-22T17:00"
    assert activity["last"][:16] == "2021-05-31T18:07"
    assert [(p["period"], p["messages"]) for p in activity["periods"]] == [
        ("2021-04", 2),
        ("2021-05", 12),
    ]
    # the CSV twin: one row per month by default, other tables with ?table=
    months = client.get(f"/persons/{ZENG[0]}.csv").get_data(as_text=True).splitlines()
    assert months[0].startswith("period,") and len(months) == 3
    may = client.get(f"/persons/{ZENG[0]}.json?start=2021-05-01").get_json()["activity"]
    assert may["messages"] == 12 and may["first_in_scope"][:10] == "2021-04-22"
    lists_csv = client.get(f"/persons/{ZENG[0]}.csv?table=lists").get_data(as_text=True)
    assert lists_csv.splitlines()[1].startswith("usrp,14,")
    page = client.get(f"/persons/{ZENG[0]}").get_data(as_text=True)
    assert 'id="person-periods"' in page and "chart.umd.min.js" in page
    assert client.get("/persons/suggestions.json").get_json()["suggestions"] == []
    events = client.get("/persons/events.json").get_json()["events"]
    assert events[0]["action"] == "merge" and events[0]["actor"] == f"web:{session.username}"
    undo = client.post(
        f"/persons/events/{events[0]['id']}/undo",
        data={"csrf_token": session.csrf},
        headers={"Accept": "application/json"},
    )
    assert undo.status_code == 200 and undo.get_json()["event"] == events[0]["id"] + 1
    assert client.get(f"/persons/{ZENG[1]}").status_code == 200
    again = client.post(
        f"/persons/events/{events[0]['id']}/undo", data={"csrf_token": session.csrf}
    )
    assert again.status_code == 409


def test_different_people_and_split(app: Flask, client: FlaskClient) -> None:
    session = login(client, app, "secretariat")  # secretariat may do what facilitators do
    answer = client.post(
        "/persons/distinct", data={"a": ZENG[0], "b": ZENG[1], "csrf_token": session.csrf}
    )
    assert answer.status_code == 303
    assert client.get("/persons/suggestions.json").get_json()["suggestions"] == []
    client.post(
        "/persons/merge", data={"into": ZENG[0], "other": ZENG[1], "csrf_token": session.csrf}
    )
    split = client.post(
        f"/persons/{ZENG[0]}/split",
        data={"kind": "address", "value": "zenghuacheng@gmail.com", "csrf_token": session.csrf},
    )
    assert split.status_code == 303
    assert client.get(f"/persons/{ZENG[1]}").status_code == 200
    bad = client.post(
        f"/persons/{ZENG[0]}/split",
        data={"kind": "address", "value": "nobody@example.org", "csrf_token": session.csrf},
    )
    assert bad.status_code == 409
    assert client.get("/persons/pnosuchperson1").status_code == 404
    unknown = client.post(
        "/persons/merge", data={"into": ZENG[0], "other": "pnosuch", "csrf_token": session.csrf}
    )
    assert unknown.status_code == 404


def test_suggestions_and_record_as_csv(app: Flask, client: FlaskClient) -> None:
    session = login(client, app, "facilitator")
    rows = client.get("/persons/suggestions.csv").get_data(as_text=True).splitlines()
    assert rows == [
        "suggestion,key,name,messages",
        f'Huacheng Zeng,{ZENG[0]},"Zeng, Huacheng",12',
        f"Huacheng Zeng,{ZENG[1]},Huacheng Zeng,2",
    ]
    client.post("/persons/distinct", data={"a": ZENG[0], "b": ZENG[1], "csrf_token": session.csrf})
    record = client.get("/persons/events.csv").get_data(as_text=True).splitlines()
    assert record[0] == "id,at,actor,action,detail,undone_by"
    assert len(record) == 2 and ",distinct," in record[1]
    # the decision is undone from the record page like a merge
    assert "Undo" in client.get("/persons/events").get_data(as_text=True)
    client.post("/persons/events/1/undo", data={"csrf_token": session.csrf})
    assert len(client.get("/persons/suggestions.json").get_json()["suggestions"]) == 1


def test_people_stats_flag_suggested_duplicates(app: Flask, client: FlaskClient) -> None:
    # issue 13: unmerged duplicates led /stats/people unflagged
    login(client, app)
    posters = client.get("/stats/people.json?limit=500").get_json()["posters"]
    flagged = {p["person"]: p for p in posters if p["duplicate_of"]}
    assert set(ZENG) <= set(flagged)
    url = flagged[ZENG[0]]["suggestion_url"]
    page = client.get(url.split("#")[0]).get_data(as_text=True)
    assert f'id="{url.split("#")[1]}"' in page
    assert "possible duplicate" in client.get("/stats/people?limit=500").get_data(as_text=True)


def _three_addresses_mbox(path: Path) -> Path:
    messages = []
    for n, (address, day) in enumerate(
        [
            ("ada@one.example", "Mon, 01 Mar 2021 10:00:00 +0000"),
            ("ada@one.example", "Tue, 02 Mar 2021 10:00:00 +0000"),
            ("ada.lovelace@two.example", "Wed, 10 Mar 2021 10:00:00 +0000"),
            ("lovelace@three.example", "Thu, 01 Apr 2021 10:00:00 +0000"),
        ]
    ):
        messages.append(
            f"From {address} {day}\nFrom: Ada Lovelace <{address}>\nDate: {day}\n"
            f"Subject: note {n}\nMessage-ID: <ada-{n}@example>\n\nbody {n}\n"
        )
    path.write_text("\n".join(messages))
    return path


def test_suggestions_show_addresses_dates_and_every_pair(tmp_path: Path) -> None:
    # issue 13: no addresses, no dates, no "Different people" for 3+, unlabelled counts
    mbox = _three_addresses_mbox(tmp_path / "ada.mbox")
    data = tmp_path / "data"
    store = Store(data / "store.db")
    try:
        store.add_list("ada", "mbox", paths=[str(mbox)])
        assert sync_list(store, "ada", MboxSource([str(mbox)]), workers=1).clean
    finally:
        store.close()
    app = create_app(
        load_settings(env={}, overrides={"data_dir": data, "web.secure_cookies": False})
    )
    client = app.test_client()
    login(client, app, "facilitator")
    (found,) = client.get("/persons/suggestions.json").get_json()["suggestions"]
    assert len(found["persons"]) == 3 and len(found["pairs"]) == 3
    first = found["persons"][0]
    assert first["identities"][0]["value"] == "ada@one.example"
    assert (first["total"], first["first"], first["last"]) == (2, "2021-03-01", "2021-03-02")
    page = client.get("/persons/suggestions").get_data(as_text=True)
    assert "ada.lovelace@two.example" in page and "lovelace@three.example" in page
    assert page.count('class="inline distinct-pair"') == 3
    assert "2 posts by this address, 2021-03-01 to 2021-03-02" in page
    assert "person total: 2 posts" in page
    assert "shown in full (staff only)" in page
