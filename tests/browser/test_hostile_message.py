"""A message written to attack the archive's readers: markup in the subject, the From name
and the body must be shown as text, never run, and pages carry a Content-Security-Policy."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.browser.conftest import Site, build_store, require_browser, serve

require_browser()  # before playwright is imported

from playwright.sync_api import Dialog, Page, Response, expect  # noqa: E402

WORD = "zorblefrotz"
SUBJECT = (
    f'[Reality] <script>window.__pwned=1</script> {WORD} <img src=x onerror="window.__pwned=2">'
)
FROM_NAME = "<script>window.__pwned=3</script><img src=x onerror=window.__pwned=4>"
BODY_SCRIPT = "<script>window.__pwned=1</script>"
BODY_IMG = '<img src=x onerror="window.__pwned=2">'

# Pipermail-style volume (as in the corpus): a plain-text attack, a reply to it, and an
# HTML-only message whose markup must not run either.
VOLUME = f"""\
From mallory at example.com  Tue May  6 14:00:00 2003
From: "{FROM_NAME}" <mallory@example.com>
Date: Tue, 6 May 2003 10:00:00 -0400
Subject: {SUBJECT}
Message-ID: <hostile-1@example.com>

Hello {WORD} readers,

{BODY_SCRIPT}
{BODY_IMG}
<a href="javascript:window.__pwned=5">click me</a>

From alice at example.com  Tue May  6 15:00:00 2003
From: Alice <alice@example.com>
Date: Tue, 6 May 2003 11:00:00 -0400
Subject: Re: {SUBJECT}
Message-ID: <hostile-2@example.com>
In-Reply-To: <hostile-1@example.com>
References: <hostile-1@example.com>

Please do not post {WORD} markup.

> {BODY_SCRIPT}

From mallory at example.com  Tue May  6 16:00:00 2003
From: Mallory <mallory@example.com>
Date: Tue, 6 May 2003 12:00:00 -0400
Subject: html only {WORD}
Message-ID: <hostile-3@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=us-ascii

<html><body><p>html {WORD}</p><script>window.__pwned=6</script>
<img src=x onerror="window.__pwned=7"><iframe src="javascript:parent.__pwned=8"></iframe>
</body></html>

"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("hostile")
    volume = folder / "2003-May.txt"
    volume.write_text(VOLUME, encoding="ascii")
    data_dir = folder / "data"
    build_store(data_dir, {"hostile": [volume]})
    with serve(data_dir) as site:
        yield site


def key_of(site: Site, message_id: str) -> str:
    conn = sqlite3.connect(f"file:{site.data_dir / 'store.db'}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT key FROM messages WHERE message_id_norm = ?", (message_id,)
        ).fetchone()
    finally:
        conn.close()
    assert row, f"{message_id} not stored"
    return str(row[0])


def assert_not_run(page: Page) -> None:
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)  # let any injected onerror handler fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img[onerror], iframe, [onclick]").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0


def assert_csp(response: Response | None) -> None:
    assert response is not None, "no response"
    assert response.ok, f"{response.status} for {response.url}"
    header = response.headers.get("content-security-policy", "")
    assert header, "no Content-Security-Policy header"
    directives = {
        part.split()[0].lower(): part.split()[1:] for part in header.split(";") if part.strip()
    }
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, f"CSP restricts no scripts: {header}"
    assert "'unsafe-inline'" not in scripts and "*" not in scripts, header


def test_message_page_shows_markup_as_text(page: Page, hostile_site: Site) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    key = key_of(hostile_site, "hostile-1@example.com")
    response = page.goto(f"{hostile_site.url}/messages/{key}")
    assert_csp(response)
    assert_not_run(page)
    article = page.locator("article#message")
    expect(article).to_be_visible()
    assert page.locator("article#message script").count() == 0
    assert page.locator("article#message img").count() == 0
    text = article.inner_text()
    assert BODY_SCRIPT in text and BODY_IMG in text
    assert "<script>window.__pwned=1</script>" in page.locator("body").inner_text()  # subject
    assert "<script>window.__pwned=3</script>" in text  # the From name
    assert "mallory@example.com" not in page.content(), "addresses are obfuscated"
    assert dialogs == []


def test_reply_and_html_only_message_do_not_run(page: Page, hostile_site: Site) -> None:
    for message_id in ("hostile-2@example.com", "hostile-3@example.com"):
        response = page.goto(f"{hostile_site.url}/messages/{key_of(hostile_site, message_id)}")
        assert_csp(response)
        assert_not_run(page)
        assert page.locator("article#message script").count() == 0


def test_search_and_thread_pages_show_markup_as_text(page: Page, hostile_site: Site) -> None:
    response = page.goto(f"{hostile_site.url}/search?q={WORD}")
    assert_csp(response)
    assert_not_run(page)
    hits = page.locator("#results .hit")
    expect(hits.first).to_be_visible()
    assert hits.count() == 3
    assert page.locator("#results script").count() == 0
    assert "<script>window.__pwned=1</script>" in page.locator("#results").inner_text()

    page.locator("#results .hit a.thread").first.click()
    page.wait_for_url(lambda url: "/threads/" in url)
    assert_not_run(page)
    assert page.locator("#thread script").count() == 0
    assert page.locator("#thread li.msg").count() >= 1
