"""Reading a long thread in the browser: the outline takes you to a message (on this page or
the next), j/k move between messages, and an attachment downloads with its original bytes."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.browser.conftest import Site, build_store, require_browser, serve

require_browser()  # before playwright is imported

from playwright.sync_api import Browser, Page, expect  # noqa: E402

LONG = 60  # more than one page of 50
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
BLOB = bytes(range(256)) * 40 + b"\r\n\x00end"


def _plain(n: int, parent: int | None) -> bytes:
    head = (
        f"From: Person {n % 7} <p{n % 7}@example.org>\nSubject: Re: Long thread\n"
        f"Date: Mon, 05 Oct 2020 {n // 60:02d}:{n % 60:02d}:00 +0000\n"
        f"Message-ID: <m{n}@example.org>\n"
    )
    if parent is not None:
        head += f"In-Reply-To: <m{parent}@example.org>\nReferences: <m{parent}@example.org>\n"
    body = "\n".join(f"Line {i} of message {n}." for i in range(30))
    return (head + "\n" + body + "\n").encode()


def _with_attachments() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@example.org>"
    msg["Subject"] = "Files"
    msg["Date"] = "Tue, 06 Oct 2020 10:00:00 +0000"
    msg["Message-ID"] = "<files@example.org>"
    msg.set_content("Two files attached.\n")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="dot.png")
    msg.add_attachment(BLOB, maintype="application", subtype="x-thing", filename="blob ü.bin")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("reading")
    messages = [_plain(n, None if n == 0 else (n - 1 if n % 4 else 0)) for n in range(LONG)]
    messages.append(_with_attachments())
    mbox = folder / "reading.mbox"
    with mbox.open("wb") as out:
        for raw in messages:
            out.write(b"From x@example.org Mon Oct  5 10:00:00 2020\n" + raw + b"\n")
    data_dir = folder / "data"
    build_store(data_dir, {"reading": [mbox]})
    with serve(data_dir) as running:
        yield running


def _one(site: Site, sql: str) -> str:
    conn = sqlite3.connect(f"file:{site.data_dir / 'store.db'}?mode=ro", uri=True)
    try:
        row = conn.execute(sql).fetchone()
    finally:
        conn.close()
    assert row
    return str(row[0])


def _thread(site: Site) -> str:
    return _one(site, "SELECT thread_id FROM messages WHERE message_id = '<m0@example.org>'")


def test_outline_entry_takes_you_to_its_message(page: Page, site: Site) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/threads/{_thread(site)}")
    entries = page.locator("#outline a")
    expect(entries).to_have_count(LONG)
    target_key = entries.nth(40).get_attribute("data-key")
    entries.nth(40).click()
    article = page.locator(f"#m-{target_key}")
    expect(article).to_be_in_viewport()
    assert page.evaluate("location.hash") == f"#m-{target_key}"
    assert page.evaluate("document.querySelector(':target').id") == f"m-{target_key}"
    # an entry on the next page: the page changes and its message is the target
    last = entries.nth(LONG - 1)
    last_key = last.get_attribute("data-key")
    last.click()
    page.wait_for_url(f"**page=2#m-{last_key}")
    expect(page.locator(f"#m-{last_key}")).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == f"m-{last_key}"
    assert not errors, errors  # no CSP refusal of the script, no script error


def test_j_and_k_move_between_messages(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/threads/{_thread(site)}")
    ids = page.locator("#thread > li.msg").evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == 50
    expect(page.locator("#thread-keys")).to_be_visible()  # the script says the keys work
    page.locator("h1").click()  # focus in the page, not in a field
    page.keyboard.press("j")
    assert page.evaluate("location.hash") == f"#{ids[0]}"
    page.keyboard.press("j")
    page.keyboard.press("n")
    assert page.evaluate("location.hash") == f"#{ids[2]}"
    assert page.evaluate("document.activeElement.closest('li.msg').id") == ids[2]
    expect(page.locator(f"#{ids[2]}")).to_be_in_viewport()
    page.keyboard.press("k")
    assert page.evaluate("location.hash") == f"#{ids[1]}"
    assert page.evaluate("document.querySelector(':target').id") == ids[1]


def test_attachment_downloads_with_its_original_bytes(page: Page, site: Site) -> None:
    key = _one(site, "SELECT key FROM messages WHERE message_id = '<files@example.org>'")
    page.goto(f"{site.url}/messages/{key}")
    for name, original in (("dot.png", PNG), ("blob ü.bin", BLOB)):
        with page.expect_download() as info:
            page.locator("section.attachments a.download", has_text=name).click()
        download = info.value
        assert download.suggested_filename == name
        path = download.path()
        assert path is not None
        assert Path(path).read_bytes() == original


def test_signature_box_sits_with_its_message(corpus_site: Site, browser: Browser) -> None:
    """A real thread (reality, 'OBJECT PROXIES') beside its floated outline at 1280 px, and on a
    phone: the collapsed signature box ends where its message does, never under the outline."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(f"{corpus_site.url}/search?q=%22object+proxies%22")
        page.locator('main a[href^="/threads/"]').first.click()
        page.wait_for_load_state("networkidle")
        message = page.locator("#thread li.msg", has=page.locator("details.signature")).first
        signature = message.locator("details.signature").first
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            sig, box = signature.bounding_box(), message.bounding_box()
            assert sig is not None and box is not None
            assert box["x"] <= sig["x"] and sig["x"] + sig["width"] <= box["x"] + box["width"] + 1
            assert sig["x"] + sig["width"] <= width
            text = message.locator(".body > pre").last.bounding_box()
            assert text is not None and text["y"] + text["height"] <= sig["y"] + 1
            outline = page.locator("#outline-box").bounding_box()
            assert outline is not None
            side_by_side = outline["y"] < sig["y"] + sig["height"] and sig["y"] < (
                outline["y"] + outline["height"]
            )
            if side_by_side:  # the outline floats beside the messages (wide screens)
                assert sig["x"] + sig["width"] <= outline["x"], (sig, outline)
    finally:
        ctx.close()
