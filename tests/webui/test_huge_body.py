"""A huge stored body (issue 11): message and thread pages show a bounded part, say that it was
cut and how big the message is, and link to the full source, which streams whole.  The bound
is applied in the store query (`web.max_body_chars`), so the body is never read whole for a
page.  Figures for a 128 MiB body: bench/huge_body.py."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import queries, reader, visibility
from store.store import Store
from webui import create_app
from webui.openapi_schemas import SCHEMAS

BOUND = 5_000
LINE = "> a quoted line of the huge message, with someone@example.org in it -- and more\n"
"""The body repeats this line (80 characters); quoted, with an address to obfuscate."""


@dataclass(frozen=True)
class Huge:
    data: Path
    key: str
    small_key: str
    thread_id: str
    body_length: int
    raw_size: int


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Huge:
    root = tmp_path_factory.mktemp("huge")
    head = (
        "From big@example.org Mon Mar  2 10:00:00 2020\n"
        "Message-ID: <big@mid.example>\nFrom: Big Sender <big@example.org>\n"
        "To: big-list@example.org\nSubject: A very long message\n"
        "Date: Mon, 02 Mar 2020 10:00:00 +0000\n\n"
    )
    reply = (
        "From small@example.org Tue Mar  3 10:00:00 2020\n"
        "Message-ID: <small@mid.example>\nFrom: Small Sender <small@example.org>\n"
        "To: big-list@example.org\nSubject: Re: A very long message\n"
        "In-Reply-To: <big@mid.example>\nDate: Tue, 03 Mar 2020 10:00:00 +0000\n\n"
        "Short answer.\n-- \nSmall\n\n"
    )
    path = root / "big.mbox"
    lines = 20_000_000 // len(LINE)  # a 20 MB body, generated here
    path.write_text(head + LINE * lines + "-- \nBig's signature\n\n" + reply)
    store = Store(root / "data" / "store.db")
    try:
        store.add_list("big-list", "mbox", paths=[str(path)])
        summary = sync_list(store, "big-list", MboxSource([str(path)]), workers=1)
        assert summary.clean, summary.as_dict()
        rows = store.conn.execute(
            "SELECT key, thread_id, body_chars, raw_size FROM messages ORDER BY date"
        ).fetchall()
    finally:
        store.close()
    (key, thread_id, length, size), (small_key, *_) = rows
    assert length > 19_000_000
    return Huge(root / "data", key, small_key, thread_id, length, size)


@pytest.fixture()
def app(huge: Huge) -> Flask:
    settings = load_settings(env={}, overrides={"data_dir": huge.data, "web.max_body_chars": BOUND})
    return create_app(settings)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_the_bound_is_applied_in_the_store_query(huge: Huge) -> None:
    store = Store(huge.data / "store.db", readonly=True)
    try:
        found = queries.get_message(
            store.conn, huge.key, visibility.EVERYTHING, max_body_chars=BOUND
        )
        assert found is not None
        assert len(found.body) == BOUND and len(found.signature) <= BOUND
        assert found.body_length == huge.body_length and found.body_truncated
        whole = queries.get_message(store.conn, huge.small_key, visibility.EVERYTHING)
        assert whole is not None and not whole.body_truncated
        thread = queries.thread_messages(
            store.conn, huge.thread_id, visibility.EVERYTHING, max_body_chars=BOUND
        )
        assert [len(m.body) <= BOUND for m in thread] == [True, True]
    finally:
        store.close()


def test_message_page_is_cut_names_the_size_and_links_the_source(
    client: FlaskClient, huge: Huge
) -> None:
    page = client.get(f"/messages/{huge.key}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert len(html) < 5 * BOUND + 20_000
    assert 'class="note body-cut"' in html
    assert f"{huge.body_length:,} characters" in html
    assert f'<a class="full-source" href="/messages/{huge.key}/source">' in html
    assert "MiB)" in html  # the size of the original, e.g. "Full source (19.1 MiB)"
    assert "someone@example.org" not in html  # the shown part is still obfuscated

    data = client.get(f"/messages/{huge.key}.json").get_json()["message"]
    assert data["body_truncated"] is True and data["body_length"] == huge.body_length
    assert data["raw_size"] == huge.raw_size and len(data["body"]) <= BOUND
    assert data["source_url"] == f"/messages/{huge.key}/source"
    assert all(b["kind"] != "signature" for b in data["blocks"])  # its end was cut off
    assert set(SCHEMAS["Message"]["required"]) <= set(data)


def test_thread_page_cuts_the_huge_message_only(client: FlaskClient, huge: Huge) -> None:
    html = client.get(f"/threads/{huge.thread_id}").get_data(as_text=True)
    assert html.count('class="note body-cut"') == 1
    assert f'href="/messages/{huge.key}/source"' in html
    thread = client.get(f"/threads/{huge.thread_id}.json").get_json()
    cut = {m["key"]: m["body_truncated"] for m in thread["messages"]}
    assert cut == {huge.key: True, huge.small_key: False}
    small = next(m for m in thread["messages"] if m["key"] == huge.small_key)
    assert [b["kind"] for b in small["blocks"]] == ["text", "signature"]


def test_source_streams_the_whole_original(client: FlaskClient, huge: Huge) -> None:
    response = client.get(f"/messages/{huge.key}/source")
    assert response.status_code == 200 and response.is_streamed
    raw = response.get_data()
    assert len(raw) == huge.raw_size and raw.count(LINE.encode()) == huge.body_length // len(LINE)
    store = Store(huge.data / "store.db", readonly=True)
    try:
        assert b"".join(reader.raw_chunks(store.conn, huge.key, 1 << 16)) == raw
        assert list(reader.raw_chunks(store.conn, "no-such-key")) == []
        compressed, body_bytes = store.conn.execute(
            "SELECT content, body_bytes FROM messages WHERE key = ?", (huge.key,)
        ).fetchone()
        assert zlib.decompress(compressed)[body_bytes:] == raw
    finally:
        store.close()
