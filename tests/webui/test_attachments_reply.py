"""Attachment downloads (original bytes, safe headers, private rules), scrubbed-attachment
links (own archive origin only) and the reply mailto: link, on a store synced from a small
mbox written here (MIME attachments are rare in the corpus)."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.support.webauth import login
from webui import create_app
from webui.reply import reply_subject, reply_url

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HTML = b"<html><script>alert(1)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _mime(msgid: str, subject: str, refs: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.org>"
    msg["To"] = "pub@lists.example.org"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 05 Oct 2020 10:00:00 +0000"
    msg["Message-ID"] = msgid
    if refs:
        msg["In-Reply-To"] = refs.split()[-1]
        msg["References"] = refs
    msg.set_content("See the attached files.\n")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="../../dot é.png")
    msg.add_attachment(HTML, maintype="text", subtype="html", filename="evil.html")
    msg.add_attachment(SVG, maintype="image", subtype="svg+xml", filename="x.svg")
    return msg.as_bytes()


SCRUBBED = (
    b"From: Bob <bob@example.org>\nSubject: Re: [pub] files\n"
    b"Date: Tue, 06 Oct 2020 10:00:00 +0000\nMessage-ID: <scrub@example.org>\n\n"
    b"Here.\n-------------- next part --------------\n"
    b"A non-text attachment was scrubbed...\nName: a.bin\nType: application/octet-stream\n"
    b"Size: 12 bytes\nDesc: not available\n"
    b"Url : https://archive.example.org/pipermail/pub/attachments/a.bin\n"
    b"-------------- next part --------------\n"
    b"A non-text attachment was scrubbed...\nName: b.bin\nType: application/octet-stream\n"
    b"Size: 12 bytes\nDesc: not available\nUrl : https://evil.example.net/b.bin\n"
)


def _mbox(path: Path, messages: list[bytes]) -> Path:
    with path.open("wb") as out:
        for raw in messages:
            out.write(b"From x@example.org Mon Oct  5 10:00:00 2020\n" + raw.rstrip(b"\n"))
            out.write(b"\n\n")
    return path


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    root = tmp_path_factory.mktemp("attach")
    data = root / "data"
    pub = _mbox(
        root / "pub.mbox",
        [_mime("<one@example.org>", "[pub] files", "<zero@example.org>"), SCRUBBED],
    )
    priv = _mbox(root / "priv.mbox", [_mime("<secret@example.org>", "secret files")])
    bare = _mbox(root / "bare.mbox", [_mime("<bare@example.org>", "bare files")])
    store = Store(data / "store.db")
    try:
        store.add_list(
            "pub",
            "mbox",
            paths=[str(pub)],
            url="https://archive.example.org/pipermail/pub/",
            address="pub@lists.example.org",
        )
        store.add_list("priv", "mbox", paths=[str(priv)], private=True)
        store.add_list("bare", "mbox", paths=[str(bare)])
        for name, path in (("pub", pub), ("priv", priv), ("bare", bare)):
            assert sync_list(store, name, MboxSource([str(path)]), workers=1).clean
    finally:
        store.close()
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    yield app.test_client()


def _key(client: FlaskClient, lst: str, subject: str) -> str:
    periods = client.get(f"/lists/{lst}.json").get_json()["periods"]
    for p in periods:
        for m in client.get(p["url"].rstrip("/") + ".json").get_json()["messages"]:
            if m["subject"] == subject:
                return str(m["key"])
    raise AssertionError(subject)


def test_download_serves_the_original_part_bytes(client: FlaskClient) -> None:
    key = _key(client, "pub", "[pub] files")
    message = client.get(f"/messages/{key}.json").get_json()["message"]
    names = [a["filename"] for a in message["attachments"]]
    assert names == ["../../dot é.png", "evil.html", "x.svg"]
    png = client.get(message["attachments"][0]["url"])
    assert png.status_code == 200
    assert png.data == PNG
    assert png.mimetype == "image/png"
    disposition = png.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''dot%20%C3%A9.png" in disposition
    assert "/" not in unquote(disposition.split("filename*=UTF-8''")[1])
    assert png.headers["X-Content-Type-Options"] == "nosniff"
    assert png.headers["Content-Security-Policy"].startswith("sandbox")
    html = client.get(f"/messages/{key}.json").get_json()["message"]["attachments"][0]["url"]
    assert html == f"/messages/{key}/attachments/0"
    page = client.get(f"/messages/{key}").get_data(as_text=True)
    assert f'href="/messages/{key}/attachments/0"' in page


@pytest.mark.parametrize(("n", "body"), [(1, HTML), (2, SVG)])
def test_active_content_is_never_served_as_such(client: FlaskClient, n: int, body: bytes) -> None:
    key = _key(client, "pub", "[pub] files")
    response = client.get(f"/messages/{key}/attachments/{n}")
    assert response.status_code == 200
    assert response.data == body
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_hidden_and_unknown_are_404(client: FlaskClient) -> None:
    key = _key(client, "pub", "[pub] files")
    assert client.get(f"/messages/{key}/attachments/3").status_code == 404
    assert client.get("/messages/nosuch/attachments/0").status_code == 404
    store = client.application.config["LISTARCHIVE_SETTINGS"].store_path
    conn = sqlite3.connect(store)
    secret = conn.execute(
        "SELECT key FROM messages WHERE message_id = '<secret@example.org>'"
    ).fetchone()[0]
    conn.close()
    assert client.get(f"/messages/{secret}/attachments/0").status_code == 404


def test_scrubbed_links_only_to_the_lists_own_archive(client: FlaskClient) -> None:
    key = _key(client, "pub", "Re: [pub] files")
    message = client.get(f"/messages/{key}.json").get_json()["message"]
    urls = {a["filename"]: a["url"] for a in message["attachments"]}
    assert urls == {
        "a.bin": "https://archive.example.org/pipermail/pub/attachments/a.bin",
        "b.bin": "",
    }
    assert client.get(f"/messages/{key}/attachments/0").status_code == 404
    page = client.get(f"/messages/{key}").get_data(as_text=True)
    assert "evil.example.net" not in page
    # the unlinked one says why it cannot be downloaded (not a bare name), the linked one does not
    assert page.count("its link points outside the list's archive site") == 1


def test_reply_link_answers_on_the_list(client: FlaskClient) -> None:
    key = _key(client, "pub", "[pub] files")
    message = client.get(f"/messages/{key}.json").get_json()["message"]
    url = message["reply_url"]
    parts = urlsplit(url)
    assert parts.scheme == "mailto" and parts.path == "pub@lists.example.org"
    fields = parse_qs(parts.query)
    assert fields["subject"] == ["Re: [pub] files"]
    assert fields["In-Reply-To"] == ["<one@example.org>"]
    assert fields["References"] == ["<zero@example.org> <one@example.org>"]
    assert " " not in parts.query and "<" not in parts.query
    page = client.get(f"/messages/{key}").get_data(as_text=True)
    assert 'id="reply"' in page


def test_no_reply_link_without_a_posting_address(client: FlaskClient) -> None:
    key = _key(client, "bare", "bare files")
    assert client.get(f"/messages/{key}.json").get_json()["message"]["reply_url"] is None
    assert 'id="reply"' not in client.get(f"/messages/{key}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("hello", "Re: hello"),
        ("Re: hello", "Re: hello"),
        ("RE:hello", "RE:hello"),
        ("[pub] Re: hello", "[pub] Re: hello"),
        ("[pub] hello", "Re: [pub] hello"),
    ],
)
def test_reply_subject_is_prefixed_once(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_reply_url_encoding() -> None:
    url = reply_url("l@x.org", "a&b=c ü", "<id+1@x.org>", ["<p@x.org>", "<id+1@x.org>"])
    assert url is not None
    fields = parse_qs(urlsplit(url).query)
    assert fields["subject"] == ["Re: a&b=c ü"]
    assert fields["References"] == ["<p@x.org> <id+1@x.org>"]
    assert reply_url("", "s", "<a@b>", []) is None
    assert reply_url("l@x.org", "s", "", []) is None


def test_a_logged_in_reader_downloads_a_private_attachment(client: FlaskClient) -> None:
    app = client.application
    conn = sqlite3.connect(app.config["LISTARCHIVE_SETTINGS"].store_path)
    secret = conn.execute(
        "SELECT key FROM messages WHERE message_id = '<secret@example.org>'"
    ).fetchone()[0]
    conn.close()
    assert client.get(f"/messages/{secret}/attachments/0").status_code == 404
    staff = app.test_client()
    login(staff, app, "facilitator")
    response = staff.get(f"/messages/{secret}/attachments/0")
    assert response.status_code == 200
    assert response.data == PNG
    listed = staff.get(f"/messages/{secret}.json").get_json()["message"]["attachments"]
    assert listed[0]["url"] == f"/messages/{secret}/attachments/0"
