"""Private lists for logged-in accounts (`webui/access.py`): anonymous visitors never see them
(404, nothing in searches, facets or exports); any logged-in account reads them everywhere,
with answers that no cache may keep; after logging out they are gone again.

On the web UI test store: public `reality`, private `divunal-author` (one message is on both);
the pipermail redirects on their own synced store (tests/support/pipermail_site.py)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config.settings import load_settings
from store.store import Store
from tests.conftest import CORPUS
from tests.support.pipermail_site import synced_and_mapped
from tests.support.webauth import login, session_csrf
from tests.webui.conftest import PRIVATE, PUBLIC
from webui import create_app

NOT_SHARED = "private, no-store"
_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


# -- what the store holds (counted with SQL, not with the code under test) ---------------------


def _one(db: sqlite3.Connection, sql: str, *params: object) -> object:
    row = db.execute(sql, params).fetchone()
    assert row is not None, sql
    return row[0]


def on_list(db: sqlite3.Connection, name: str) -> int:
    """Messages on the list `name`."""
    count = _one(
        db,
        "SELECT count(*) FROM memberships ms JOIN lists l ON l.id = ms.list WHERE l.name = ?",
        name,
    )
    assert isinstance(count, int)
    return count


def crossposted(db: sqlite3.Connection) -> int:
    """Messages on the private list that are also on a public one (public messages)."""
    count = _one(
        db,
        "SELECT count(*) FROM (SELECT m.id FROM messages m "
        "JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list "
        "GROUP BY m.id HAVING min(l.private) = 0 AND max(l.private) = 1)",
    )
    assert isinstance(count, int)
    return count


def private_thread(db: sqlite3.Connection) -> tuple[str, int]:
    """The largest thread whose every message is private only, and its size."""
    row = db.execute(
        "SELECT m.thread_id, count(DISTINCT m.id) FROM messages m "
        "JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list "
        "GROUP BY m.thread_id HAVING min(l.private) = 1 ORDER BY 2 DESC, 1 LIMIT 1"
    ).fetchone()
    assert row is not None and row[1] > 1
    return str(row[0]), int(row[1])


def mixed_thread(db: sqlite3.Connection) -> tuple[str, int, int]:
    """A thread with public and private-only messages: its id, all and public messages."""
    row = db.execute(
        "SELECT t.thread_id, count(*), sum(t.public) FROM (SELECT m.thread_id, "
        "min(l.private) = 0 AS public FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list GROUP BY m.id) t GROUP BY t.thread_id "
        "HAVING sum(t.public) > 0 AND sum(t.public) < count(*) ORDER BY 1 LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2])


def private_key(db: sqlite3.Connection, thread_id: str) -> tuple[str, str]:
    """The first message of a private thread: its key and stored sender address."""
    row = db.execute(
        "SELECT key, from_addr FROM messages WHERE thread_id = ? AND from_addr LIKE '%@%' "
        "ORDER BY thread_pos, key LIMIT 1",
        (thread_id,),
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def private_period(db: sqlite3.Connection) -> tuple[str, int]:
    """The private list's biggest period (volume) and its message count."""
    row = db.execute(
        "SELECT ms.origin, count(*) FROM memberships ms JOIN lists l ON l.id = ms.list "
        "WHERE l.name = ? GROUP BY ms.origin ORDER BY 2 DESC, 1 LIMIT 1",
        (PRIVATE,),
    ).fetchone()
    assert row is not None
    return str(row[0]).removesuffix(".txt.gz"), int(row[1])


def private_urls(db: sqlite3.Connection) -> list[str]:
    thread_id, _ = private_thread(db)
    key, _ = private_key(db, thread_id)
    period, _ = private_period(db)
    return [
        f"/lists/{PRIVATE}/",
        f"/lists/{PRIVATE}.json",
        f"/lists/{PRIVATE}/{period}/",
        f"/lists/{PRIVATE}/{period}.json",
        f"/lists/{PRIVATE}/{period}.mbox",
        f"/threads/{thread_id}",
        f"/threads/{thread_id}.json",
        f"/threads/{thread_id}.mbox",
        f"/messages/{key}",
        f"/messages/{key}.json",
        f"/messages/{key}/source",
    ]


def _logout(client: FlaskClient) -> None:
    out = client.post("/logout", data={"csrf_token": session_csrf(client)})
    assert out.status_code == 302


def _not_shared(response: TestResponse) -> bool:
    return response.headers.get("Cache-Control") == NOT_SHARED and "Cookie" in response.vary


def _csv_rows(response: TestResponse) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# -- anonymous -------------------------------------------------------------------------------


def test_anonymous_visitors_get_404_and_no_private_hits(
    client: FlaskClient, db: sqlite3.Connection
) -> None:
    for url in private_urls(db):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Cache-Control" not in response.headers, url
    home = client.get("/index.json")
    assert [item["name"] for item in home.get_json()["lists"]] == [PUBLIC]
    assert "Cache-Control" not in home.headers

    # a private list is no filter for them: refused as an unknown list (issue 11, D2), not
    # answered with the public messages also posted to it
    refused = client.get(f"/search.json?q=list:{PRIVATE}")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == f"unknown list {PRIVATE!r}"
    assert crossposted(db)  # the store has messages that filter would have given
    facets = client.get("/search.json?q=after:1990").get_json()["facets"]
    assert [f["value"] for f in facets["list"]] == [PUBLIC]

    for url in (
        f"/api/search?q=list:{PRIVATE}&facets=1",
        f"/search.csv?q=list:{PRIVATE}",
        f"/search.mbox?q=list:{PRIVATE}",
    ):
        assert client.get(url).status_code == 400, url
    api = client.get(f"/api/search?q=list:{PUBLIC}&facets=1&limit=100")
    assert "Cache-Control" not in api.headers
    data = api.get_json()
    assert all(hit["lists"] == [PUBLIC] for hit in data["hits"])  # the private name is hidden
    assert [name for name, _ in data["facets"]["list"]] == [PUBLIC]


# -- logged in -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["facilitator", "secretariat"])
def test_any_role_sees_the_private_list_on_the_home_page(
    app: Flask, client: FlaskClient, db: sqlite3.Connection, role: str
) -> None:
    login(client, app, role)
    home = client.get("/index.json")
    assert home.status_code == 200 and _not_shared(home)
    lists = {item["name"]: item["messages"] for item in home.get_json()["lists"]}
    assert lists == {PRIVATE: on_list(db, PRIVATE), PUBLIC: on_list(db, PUBLIC)}
    page = client.get("/")
    assert _not_shared(page)
    assert f'href="/lists/{PRIVATE}/"' in page.get_data(as_text=True)


def test_facilitator_reads_private_pages(
    app: Flask, client: FlaskClient, db: sqlite3.Connection
) -> None:
    login(client, app, "facilitator")
    for url in private_urls(db):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _not_shared(response), url

    period, size = private_period(db)
    listing = client.get(f"/lists/{PRIVATE}.json").get_json()
    assert sum(p["messages"] for p in listing["periods"]) == on_list(db, PRIVATE)
    assert len(client.get(f"/lists/{PRIVATE}/{period}.json").get_json()["messages"]) == size

    thread_id, count = private_thread(db)
    thread = client.get(f"/threads/{thread_id}.json").get_json()
    assert thread["thread"]["message_count"] == len(thread["messages"]) == count
    assert thread["thread"]["lists"] == [PRIVATE]

    key, address = private_key(db, thread_id)
    message = client.get(f"/messages/{key}.json").get_json()["message"]
    assert message["lists"] == [PRIVATE]
    # decided: addresses stay obfuscated on reading pages even for staff
    assert message["from"]["address"] == f"{address.split('@')[0]} at …"
    assert address not in client.get(f"/messages/{key}").get_data(as_text=True)
    source = client.get(f"/messages/{key}/source")
    assert source.mimetype == "text/plain" and address.encode() in source.data


def test_mixed_thread_shows_its_private_messages_only_when_logged_in(
    app: Flask, client: FlaskClient, db: sqlite3.Connection
) -> None:
    thread_id, everything, public = mixed_thread(db)
    anonymous = client.get(f"/threads/{thread_id}.json").get_json()
    assert anonymous["thread"]["message_count"] == public
    assert len(_FROM_LINE.findall(client.get(f"/threads/{thread_id}.mbox").data)) == public
    login(client, app, "facilitator")
    logged_in = client.get(f"/threads/{thread_id}.json").get_json()
    assert logged_in["thread"]["message_count"] == everything
    assert len(_FROM_LINE.findall(client.get(f"/threads/{thread_id}.mbox").data)) == everything


def test_facilitator_searches_private_messages(
    app: Flask, client: FlaskClient, db: sqlite3.Connection
) -> None:
    login(client, app, "facilitator")
    private, public = on_list(db, PRIVATE), on_list(db, PUBLIC)
    assert private > 100 and crossposted(db) < 5

    page = client.get(f"/search.json?q=list:{PRIVATE}")
    assert page.status_code == 200 and _not_shared(page)
    found = page.get_json()
    assert found["total"] == private
    assert all(PRIVATE in hit["lists"] for hit in found["hits"])
    everything = client.get("/search.json?q=after:1990").get_json()
    assert everything["total"] == _one(db, "SELECT count(*) FROM messages")
    assert {f["value"]: f["count"] for f in everything["facets"]["list"]} == {
        PRIVATE: private,
        PUBLIC: public,
    }
    html = client.get(f"/search?q=list:{PRIVATE}")
    assert _not_shared(html) and f"{private} messages" in html.get_data(as_text=True)

    api = client.get(f"/api/search?q=list:{PRIVATE}&facets=1&limit=100")
    assert api.status_code == 200 and _not_shared(api)
    data = api.get_json()
    assert data["total"] == private
    assert len(data["hits"]) == 100 and all(PRIVATE in hit["lists"] for hit in data["hits"])
    assert [PRIVATE, private] in data["facets"]["list"]
    assert all("@" not in hit["from_addr"] for hit in data["hits"])  # still obfuscated


def test_facilitator_exports_private_messages(
    app: Flask, client: FlaskClient, db: sqlite3.Connection
) -> None:
    login(client, app, "facilitator")
    thread_id, count = private_thread(db)
    mbox = client.get(f"/threads/{thread_id}.mbox")
    assert mbox.status_code == 200 and mbox.mimetype == "application/mbox"
    assert _not_shared(mbox)
    assert len(_FROM_LINE.findall(mbox.data)) == count
    key, _ = private_key(db, thread_id)
    store = Store(app.config["LISTARCHIVE_SETTINGS"].store_path, readonly=True)
    try:
        raw = store.raw_bytes(key)
    finally:
        store.close()
    assert raw is not None and raw.splitlines()[1] in mbox.data

    period, size = private_period(db)
    volume = client.get(f"/lists/{PRIVATE}/{period}.mbox")
    assert len(_FROM_LINE.findall(volume.data)) == size

    private = on_list(db, PRIVATE)
    found = client.get(f"/search.mbox?q=list:{PRIVATE}")
    assert _not_shared(found) and len(_FROM_LINE.findall(found.data)) == private
    exported = client.get(f"/search.csv?q=list:{PRIVATE}")
    assert _not_shared(exported)
    rows = _csv_rows(exported)
    assert len(rows) == private and all(PRIVATE in row["lists"].split() for row in rows)
    assert all("@" not in row["from"] for row in rows)


def test_after_logging_out_private_things_are_404_again(
    app: Flask, client: FlaskClient, db: sqlite3.Connection
) -> None:
    login(client, app, "facilitator")
    urls = private_urls(db)
    assert all(client.get(url).status_code == 200 for url in urls)
    assert client.get(f"/api/search?q=list:{PRIVATE}").get_json()["total"] == on_list(db, PRIVATE)
    _logout(client)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Cache-Control" not in response.headers, url
    assert client.get(f"/api/search?q=list:{PRIVATE}").status_code == 400
    home = client.get("/index.json").get_json()
    assert [item["name"] for item in home["lists"]] == [PUBLIC]


# -- pipermail redirects -----------------------------------------------------------------------

OLD = "/pipermail/twisted-python"


@pytest.fixture(scope="module")
def private_pipermail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """twisted-python synced as our `tp`, mapped, then made private."""
    path = synced_and_mapped(CORPUS, tmp_path_factory.mktemp("private-pipermail"))
    store = Store(path / "store.db")
    try:
        info = store.get_list("tp")
        store.add_list("tp", "pipermail", url=info.url, private=True)
    finally:
        store.close()
    yield path


def test_private_pipermail_links_redirect_only_when_logged_in(private_pipermail: Path) -> None:
    settings = load_settings(env={}, overrides={"data_dir": private_pipermail})
    app = create_app(settings)
    client = app.test_client()
    article = f"{OLD}/2018-October/032072.html"
    assert client.get(article).status_code == 404
    assert client.get(f"{OLD}/2018-October/").status_code == 404
    login(client, app, "facilitator")
    redirected = client.get(article)
    assert redirected.status_code == 301 and _not_shared(redirected)
    assert redirected.headers["Location"].startswith("/messages/")
    assert client.get(redirected.headers["Location"]).status_code == 200
    period = client.get(f"{OLD}/2018-October/")
    assert (period.status_code, period.headers["Location"]) == (301, "/lists/tp/2018-October/")
    assert client.get(f"{OLD}/").headers["Location"] == "/lists/tp/"
    _logout(client)
    assert client.get(article).status_code == 404
