"""The reading pages and their JSON twins, on a store synced from real corpus mail."""

from __future__ import annotations

import html
import re
import sqlite3
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from store.content import body_text
from store.store import Store
from tests.webui.conftest import PRIVATE, PUBLIC
from webui.views import CSP

JSON = {"Accept": "application/json"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def page(client: FlaskClient, url: str) -> tuple[str, dict[str, Any]]:
    """The HTML page at `url` and its JSON twin (by suffix and by Accept), checked equal."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.content_type.startswith("text/html")
    assert_headers(response)
    path, _, query = url.partition("?")
    twin_path = "/index.json" if path == "/" else path.rstrip("/") + ".json"
    twin = client.get(twin_path + (f"?{query}" if query else ""))
    assert twin.status_code == 200 and twin.content_type == "application/json", twin_path
    assert_headers(twin)
    accepted = client.get(url, headers=JSON)
    assert accepted.status_code == 200 and accepted.content_type == "application/json"
    assert accepted.get_json() == twin.get_json()
    data = twin.get_json()
    assert isinstance(data, dict)
    return html.unescape(response.get_data(as_text=True)), data


def assert_headers(response: TestResponse) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def no_addresses(text: str) -> None:
    found = [a for a in EMAIL.findall(text) if not a.endswith((".css", ".json"))]
    assert found == []


def biggest_thread(db: sqlite3.Connection) -> str:
    row = db.execute(
        "SELECT t.thread_id FROM threads t WHERE NOT EXISTS (SELECT 1 FROM messages m "
        "JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list "
        "WHERE m.thread_id = t.thread_id AND l.private = 1) "
        "ORDER BY t.message_count DESC LIMIT 1"
    ).fetchone()
    return str(row[0])


def private_key(db: sqlite3.Connection) -> str:
    row = db.execute(
        "SELECT m.key FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list GROUP BY m.id HAVING min(l.private) = 1 LIMIT 1"
    ).fetchone()
    return str(row[0])


def _bodies(db: sqlite3.Connection) -> list[tuple[str, str | None, str]]:
    """Every stored message's key, thread and body (the body is in the stored stream)."""
    rows = db.execute("SELECT key, thread_id, content, body_bytes FROM messages ORDER BY id")
    return [(key, thread, body_text(stream, size)) for key, thread, stream, size in rows]


def test_home(client: FlaskClient) -> None:
    text, data = page(client, "/")
    names = [item["name"] for item in data["lists"]]
    assert names == [PUBLIC], "the private list is not shown to anonymous visitors"
    reality = data["lists"][0]
    assert reality["messages"] > 100 and reality["first_date"] < reality["last_date"]
    assert f'href="/lists/{PUBLIC}/"' in text and f"{reality['messages']:,}" in text
    assert reality["first_date"][:10] in text
    assert data["recent_threads"]
    for thread in data["recent_threads"]:
        assert thread["url"] in text and thread["subject"] in text
    dates = [t["last_date"] for t in data["recent_threads"]]
    assert dates == sorted(dates, reverse=True)
    assert '<form role="search" action="/search"' in text
    assert 'id="q" name="q"' in text and 'aria-label="Search messages"' in text
    no_addresses(text)


def test_list_page(client: FlaskClient, db: sqlite3.Connection) -> None:
    text, data = page(client, f"/lists/{PUBLIC}/")
    periods = data["periods"]
    assert {p["name"] for p in periods} >= {"1999-August", "2000-January"}
    stored = db.execute(
        "SELECT count(*) FROM memberships ms JOIN lists l ON l.id = ms.list WHERE l.name = ?",
        (PUBLIC,),
    ).fetchone()[0]
    assert sum(p["messages"] for p in periods) == stored == data["list"]["messages"]
    firsts = [p["first_date"] for p in periods]
    assert firsts == sorted(firsts, reverse=True), "newest first"
    for p in periods:
        assert f'href="{p["url"]}"' in text
        assert re.search(
            rf'data-period="{p["name"]}" href="{p["url"]}"[^>]*>[^<]*'
            rf'<span class="count">{p["messages"]}<',
            text,
        )


def test_period_page(client: FlaskClient, db: sqlite3.Connection) -> None:
    text, data = page(client, f"/lists/{PUBLIC}/1999-August/")
    messages = data["messages"]
    held = db.execute(
        "SELECT count(*) FROM memberships ms JOIN lists l ON l.id = ms.list "
        "WHERE l.name = ? AND ms.origin = '1999-August.txt.gz'",
        (PUBLIC,),
    ).fetchone()[0]
    assert len(messages) == data["period"]["messages"] == held
    dates = [m["date"] for m in messages]
    assert dates == sorted(dates, reverse=True), "newest first"
    for m in messages:
        assert f'id="m-{m["key"]}"' in text and m["subject"] in text
    assert data["older"] is None or data["older"]["url"].startswith(f"/lists/{PUBLIC}/")
    no_addresses(text)
    no_addresses(str(data))


def test_thread_nested_and_flat(client: FlaskClient, db: sqlite3.Connection) -> None:
    thread_id = biggest_thread(db)
    text, data = page(client, f"/threads/{thread_id}")
    assert data["view"] == "nested"
    items = re.findall(r'<li class="msg[^"]*" data-depth="(\d+)" id="m-([^"]+)"', text)
    keys = [k for _, k in items]
    assert keys == [m["key"] for m in data["messages"]]
    stored = dict(
        db.execute("SELECT key, parent_key FROM messages WHERE thread_id = ?", (thread_id,))
    )
    assert sorted(keys) == sorted(stored)
    depths = {k: int(d) for d, k in items}
    assert depths[keys[0]] == 0 and max(depths.values()) >= 1
    for key, parent in stored.items():
        if parent in depths:
            assert depths[key] > depths[parent]
    assert data["thread"]["lists"] == [PUBLIC] and f'href="/lists/{PUBLIC}/"' in text
    for person in data["thread"]["participants"]:
        assert (person["name"] or person["address"]) in text
    assert f'id="export-mbox" href="/threads/{thread_id}.mbox"' in text

    flat_text, flat = page(client, f"/threads/{thread_id}?view=flat")
    assert flat["view"] == "flat"
    assert sorted(m["key"] for m in flat["messages"]) == sorted(keys)
    dates = [m["date"] for m in flat["messages"]]
    assert dates == sorted(dates), "flat is chronological"
    assert set(re.findall(r'data-depth="(\d+)"', flat_text)) == {"0"}
    no_addresses(text)
    no_addresses(str(data))


def test_thread_collapses_quotes_and_signatures(
    client: FlaskClient, db: sqlite3.Connection
) -> None:
    key = next(
        ((k, thread) for k, thread, body in _bodies(db) if "\n> " in body and "\n-- \n" in body),
        None,
    )
    assert key, "the corpus has a reply with a quote and a signature"
    text, data = page(client, f"/messages/{key[0]}")
    kinds = [b["kind"] for b in data["message"]["blocks"]]
    assert "quote" in kinds and kinds[-1] == "signature"
    assert '<details class="quote">' in text and '<details class="signature">' in text
    thread_text, _ = page(client, f"/threads/{key[1]}")
    assert '<details class="quote">' in thread_text


def test_message_page_and_prev_next(client: FlaskClient, db: sqlite3.Connection) -> None:
    thread_id = biggest_thread(db)
    _, thread = page(client, f"/threads/{thread_id}")
    keys = [m["key"] for m in thread["messages"]]
    middle = keys[1]
    text, data = page(client, f"/messages/{middle}")
    message = data["message"]
    assert message["key"] == middle and message["thread_id"] == thread_id
    assert data["prev"]["key"] == keys[0] and data["next"]["key"] == keys[2]
    assert f'<a id="prev" rel="prev" href="/messages/{keys[0]}"' in text
    assert f'<a id="next" rel="next" href="/messages/{keys[2]}"' in text
    assert f'<a id="permalink" href="/messages/{middle}"' in text
    assert f'<a id="thread-link" href="/threads/{thread_id}"' in text
    assert f'<a id="source" href="/messages/{middle}/source"' in text
    assert '<article id="message"' in text and '<div class="body">' in text
    assert message["subject"] in text and message["from"]["name"] in text
    assert message["date"][:16].replace("T", " ") in text
    for block in message["blocks"]:
        assert block["text"] in text
    _, first = page(client, f"/messages/{keys[0]}")
    assert first["prev"] is None and first["next"]["key"] == keys[1]
    _, last = page(client, f"/messages/{keys[-1]}")
    assert last["next"] is None
    no_addresses(text)
    no_addresses(str(data))


def test_message_attachments(client: FlaskClient, db: sqlite3.Connection) -> None:
    key = db.execute("SELECT key FROM messages WHERE attachments != '[]' LIMIT 1").fetchone()[0]
    text, data = page(client, f"/messages/{key}")
    attachment = data["message"]["attachments"][0]
    assert attachment["filename"] and attachment["filename"] in text
    assert 'class="attachments"' in text


def test_source_is_the_stored_bytes(
    client: FlaskClient, webui_data: Any, db: sqlite3.Connection
) -> None:
    key = db.execute(
        "SELECT m.key FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE l.private = 0 ORDER BY m.key LIMIT 1 OFFSET 5"
    ).fetchone()[0]
    response = client.get(f"/messages/{key}/source")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Security-Policy"] == CSP
    store = Store(webui_data / "store.db", readonly=True)
    try:
        assert response.data == store.raw_bytes(key)
    finally:
        store.close()


def test_addresses_are_obfuscated(client: FlaskClient, db: sqlite3.Connection) -> None:
    db.create_function("body_of", 2, body_text)  # the body is in the stored stream
    key, addr = db.execute(
        "SELECT m.key, m.from_addr FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE l.private = 0 AND m.from_addr LIKE '%@%' "
        "AND body_of(m.content, m.body_bytes) LIKE '%@%.%' LIMIT 1"
    ).fetchone()
    text, data = page(client, f"/messages/{key}")
    assert addr not in text and addr not in str(data)
    local = addr.split("@")[0]
    assert data["message"]["from"]["address"] == f"{local} at …"
    no_addresses(text)
    no_addresses(data["message"]["body"])


@pytest.mark.parametrize(
    "url",
    [
        "/messages/nope",
        "/threads/nope",
        "/lists/nope/",
        f"/lists/{PUBLIC}/1066-October/",
    ],
)
def test_not_found_html_and_json(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert 'id="error-message"' in response.get_data(as_text=True)
    assert_headers(response)
    twin = client.get(url.rstrip("/") + ".json")
    assert twin.status_code == 404
    assert twin.get_json()["error"]["status"] == 404
    accepted = client.get(url, headers=JSON)
    assert accepted.status_code == 404 and accepted.get_json()["error"]["message"]
    for r in (response, twin, accepted):
        assert b"Traceback" not in r.data


def test_bad_input_is_400(client: FlaskClient, db: sqlite3.Connection) -> None:
    thread_id = biggest_thread(db)
    response = client.get(f"/threads/{thread_id}?view=sideways")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "view must be one of" in response.get_data(as_text=True)
    twin = client.get(f"/threads/{thread_id}.json?view=sideways")
    assert twin.status_code == 400
    assert twin.get_json() == {
        "error": {"status": 400, "message": "view must be one of nested, flat"}
    }
    assert b"Traceback" not in response.data + twin.data


def test_private_messages_are_not_found(client: FlaskClient, db: sqlite3.Connection) -> None:
    key = private_key(db)
    thread_id = db.execute("SELECT thread_id FROM messages WHERE key = ?", (key,)).fetchone()[0]
    for url in (
        f"/messages/{key}",
        f"/messages/{key}.json",
        f"/messages/{key}/source",
        f"/threads/{thread_id}",
        f"/lists/{PRIVATE}/",
        f"/lists/{PRIVATE}.json",
        f"/lists/{PRIVATE}/1999-August/",
    ):
        assert client.get(url).status_code == 404, url
    assert PRIVATE not in client.get("/").get_data(as_text=True)


def test_markup_in_mail_is_escaped(client: FlaskClient, db: sqlite3.Connection) -> None:
    key = next(((k,) for k, _thread, body in _bodies(db) if re.search("<.*>", body, re.S)), None)
    if key is None:
        pytest.skip("no message with markup-like text in this corpus")
    raw = client.get(f"/messages/{key[0]}").get_data(as_text=True)
    body = raw.split('<div class="body">', 1)[1].split("</div>", 1)[0]
    assert "<" not in re.sub(r"</?(pre|details|summary)( class=\"\w+\")?>", "", body)


def test_unknown_route_is_html_for_browsers(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    api = client.get("/api/nope")
    assert api.status_code == 404 and api.get_json()["error"]["status"] == 404
