"""Atom feeds (issue 13), read by a real feed parser (feedparser): a list's new threads, a
thread's messages, a search's results; valid Atom, the viewer's visibility, absolute links
from `web.base_url` only (never the Host header), bounded summaries."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import feedparser  # type: ignore[import-untyped]
import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from tests.support.webauth import login
from tests.webui.conftest import PRIVATE, PUBLIC
from tests.webui.test_pages import biggest_thread, private_key
from tests.webui.test_visibility_walk import PUBLIC_LIST, Mixed, mixed  # noqa: F401 (fixture)
from webui import create_app
from webui.feeds import SUMMARY_CHARS, Entry, Feed, atom

BASE = "https://lists.example.org/archive"
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def parsed(client: FlaskClient, url: str, **headers: str) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.get_data())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title and feed.feed.updated
    return feed


def _based(webui_data: Path) -> FlaskClient:
    app = create_app(
        load_settings(env={}, overrides={"data_dir": webui_data, "web.base_url": BASE})
    )
    return app.test_client()


def test_list_feed_is_the_newest_threads(client: FlaskClient) -> None:
    feed = parsed(client, f"/lists/{PUBLIC}/feed.atom")
    newest = client.get(f"/lists/{PUBLIC}.json").get_json()["newest_threads"]
    assert feed.feed.title == f"{PUBLIC}: new threads"
    assert len(feed.entries) > len(newest) > 0, "up to 50 entries, the page shows 10"
    for entry, thread in zip(feed.entries, newest, strict=False):
        assert entry.title == (thread["subject"] or "(no subject)")
        assert entry.link == thread["url"]
        assert entry.id == f"urn:listarchive:thread:{thread['thread_id']}"
        assert entry.author and entry.updated
        assert len(entry.summary) <= SUMMARY_CHARS
        assert not ADDRESS.search(entry.summary + entry.author), "addresses obfuscated"
    assert sum(1 for e in feed.entries if e.summary) > len(feed.entries) // 2
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"alternate": f"/lists/{PUBLIC}/", "self": f"/lists/{PUBLIC}/feed.atom"}


def test_links_are_absolute_from_base_url_never_host(webui_data: Path) -> None:
    client = _based(webui_data)
    feed = parsed(client, f"/lists/{PUBLIC}/feed.atom", Host="evil.example")
    assert feed.feed.id == f"{BASE}/lists/{PUBLIC}/"
    assert {link.href for link in feed.feed.links} == {
        f"{BASE}/lists/{PUBLIC}/",
        f"{BASE}/lists/{PUBLIC}/feed.atom",
    }
    for entry in feed.entries:
        assert entry.link.startswith(f"{BASE}/threads/") and entry.id == entry.link
    page = client.get(f"/lists/{PUBLIC}/", headers={"Host": "evil.example"})
    assert b"evil.example" not in client.get(f"/lists/{PUBLIC}/feed.atom").get_data()
    assert (
        f'<link rel="alternate" type="application/atom+xml" title="{PUBLIC}: new threads" '
        f'href="/lists/{PUBLIC}/feed.atom">'
    ) in page.get_data(as_text=True)
    assert f'<a id="list-feed" href="/lists/{PUBLIC}/feed.atom"' in page.get_data(as_text=True)


def test_thread_feed(client: FlaskClient, db: sqlite3.Connection) -> None:
    thread_id = biggest_thread(db)
    feed = parsed(client, f"/threads/{thread_id}/feed.atom")
    data = client.get(f"/threads/{thread_id}.json").get_json()
    assert feed.feed.title == data["thread"]["subject"]
    by_url = {m["url"]: m for m in data["messages"]}
    assert len(feed.entries) == min(len(by_url), 50)
    for entry in feed.entries:
        message = by_url[entry.link]
        assert entry.title == (message["subject"] or "(no subject)")
        assert entry.id == f"urn:listarchive:message:{message['key']}"
        assert len(entry.summary) <= SUMMARY_CHARS
    updated = [e.updated_parsed for e in feed.entries]
    assert updated == sorted(updated, reverse=True), "newest first"
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert (
        'type="application/atom+xml" title="Messages of this thread" '
        f'href="/threads/{thread_id}/feed.atom"' in page
    )


def test_search_feed_reuses_the_search(client: FlaskClient) -> None:
    feed = parsed(client, "/search.atom?q=twisted&sort=date")
    hits = client.get("/search.json?q=twisted&sort=date").get_json()["hits"]
    assert len(hits) == 20 and len(feed.entries) > len(hits)
    assert [e.link for e in feed.entries[: len(hits)]] == [h["url"] for h in hits]
    assert [e.title for e in feed.entries[: len(hits)]] == [h["subject"] for h in hits]
    for entry in feed.entries:
        assert len(entry.summary) <= SUMMARY_CHARS and not ADDRESS.search(entry.summary)
    assert {link.rel: link.href for link in feed.feed.links}["alternate"] == (
        "/search?q=twisted&sort=date"
    )
    page = client.get("/search?q=twisted&sort=date").get_data(as_text=True)
    assert 'href="/search.atom?q=twisted&amp;sort=date"' in page
    assert client.get("/search.atom?q=after:2020-13-01").status_code == 400
    assert client.get("/search.atom").status_code == 400


def test_private_rules_apply(app: Flask, client: FlaskClient, db: sqlite3.Connection) -> None:
    key = private_key(db)
    thread_id = db.execute("SELECT thread_id FROM messages WHERE key = ?", (key,)).fetchone()[0]
    assert client.get(f"/lists/{PRIVATE}/feed.atom").status_code == 404
    assert client.get(f"/threads/{thread_id}/feed.atom").status_code == 404
    subject = db.execute("SELECT subject FROM messages WHERE key = ?", (key,)).fetchone()[0]
    word = max(subject.split(), key=len)
    anonymous = client.get(f"/search.atom?q={word}").get_data(as_text=True)
    assert key not in anonymous
    login(client, app)
    assert parsed(client, f"/lists/{PRIVATE}/feed.atom").entries
    assert parsed(client, f"/threads/{thread_id}/feed.atom").entries


def test_text_xml_cannot_carry_is_dropped(app: Flask) -> None:
    with app.test_request_context("/"):
        body = atom(
            Feed(
                title="t\x00\x1b[0m",
                path="/",
                self_path="/feed.atom",
                id_name="x",
                entries=[Entry("/m", "bell\x07 \ud800", None, "a\x0c", "x" * 5000, "m:1")],
            )
        )
    feed = feedparser.parse(body)
    assert feed.bozo == 0 and feed.feed.title == "t[0m"
    assert feed.entries[0].title.strip() == "bell"
    assert len(feed.entries[0].summary) == SUMMARY_CHARS


@pytest.fixture()
def mixed_client(mixed: Mixed) -> FlaskClient:  # noqa: F811 (the imported fixture)
    app = create_app(load_settings(env={}, overrides={"data_dir": mixed.data}))
    return app.test_client()


def test_mixed_thread_feed_is_its_visible_messages(
    mixed: Mixed,  # noqa: F811 (the imported fixture)
    mixed_client: FlaskClient,
) -> None:
    thread_id = mixed.threads["mixed"]
    urls = (
        f"/threads/{thread_id}/feed.atom",
        f"/lists/{PUBLIC_LIST}/feed.atom",
        "/search.atom?q=budget",
        "/search.atom?q=after:1990",
    )
    for url in urls:
        body = mixed_client.get(url).get_data(as_text=True)
        for secret in mixed.secrets:
            assert secret not in body, (url, secret)
    feed = parsed(mixed_client, f"/threads/{thread_id}/feed.atom")
    assert feed.feed.title == "Budget review for everyone"
    assert {e.link for e in feed.entries} == {
        f"/messages/{mixed.keys[k]}" for k in ("r1", "r2", "r3")
    }
    assert len(parsed(mixed_client, "/search.atom?q=after:1990").entries) == 5
    listing = parsed(mixed_client, f"/lists/{PUBLIC_LIST}/feed.atom")
    assert [e.title for e in listing.entries] == ["Picnic schedule", "Budget review for everyone"]
    login(mixed_client, mixed_client.application)
    assert len(parsed(mixed_client, f"/threads/{thread_id}/feed.atom").entries) == 5
