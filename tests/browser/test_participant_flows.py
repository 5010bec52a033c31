"""What a participant does in a real browser (headless Chromium), against the DOM hooks of
docs/webui-contract.md: search from the home page, narrow with a facet, read a thread, follow
a permalink, export the thread as mbox and re-import it; the same without JavaScript."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.browser.conftest import Site, require_browser

require_browser()  # before playwright is imported

from playwright.sync_api import Page, expect  # noqa: E402

PHRASE = '"getting started"'
"""A phrase found in both lists of the corpus site, in a 13-message thread among others."""


def total_of(page: Page) -> int:
    """The number in `#total` ("1,234 messages")."""
    text = page.locator("#total").inner_text()
    digits = re.sub(r"[^\d]", "", text.split("message")[0])
    assert digits, f"no count in #total: {text!r}"
    return int(digits)


def path_of(url: str) -> str:
    return urlsplit(url).path


def store_rows(site: Site, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{site.data_dir / 'store.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def search_from_home(page: Page, site: Site, query: str) -> None:
    page.goto(site.url + "/")
    form = page.locator('form[role="search"]')
    expect(form).to_have_attribute("action", re.compile(r"/search$"))
    box = page.locator("#q")
    expect(box).to_have_attribute("aria-label", "Search messages")
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?"))
    expect(page.locator("#results .hit").first).to_be_visible()


def open_biggest_thread(page: Page, site: Site) -> str:
    """Click the `a.thread` of the hit whose thread has the most messages; its thread id."""
    hrefs = page.locator("#results .hit a.thread").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs, "no a.thread link in the hits"
    sizes = {}
    for href in hrefs:
        thread_id = path_of(href).rsplit("/", 1)[-1]
        rows = store_rows(site, "SELECT message_count FROM threads WHERE thread_id = ?", thread_id)
        assert rows, f"a.thread points at an unknown thread: {href}"
        sizes[href] = int(str(rows[0][0]))
    href = max(hrefs, key=lambda h: sizes[h])
    assert sizes[href] > 2, "no hit of the test phrase is in a thread with replies"
    page.locator(f'#results .hit a.thread[href="{href}"]').first.click()
    page.wait_for_url(re.compile(r"/threads/[^/?#]+"))
    return path_of(page.url).rsplit("/", 1)[-1]


def check_thread(page: Page, site: Site, thread_id: str) -> list[str]:
    """The thread page lists every message of the thread, replies deeper than their parents."""
    items = page.locator("#thread li.msg")
    expect(items.first).to_be_visible()
    found = items.evaluate_all("lis => lis.map(li => [li.id, li.getAttribute('data-depth')])")
    keys = [str(item_id).removeprefix("m-") for item_id, _ in found]
    assert all(str(item_id).startswith("m-") for item_id, _ in found), found
    depths = {key: int(depth) for key, (_, depth) in zip(keys, found, strict=True)}
    stored = store_rows(site, "SELECT key, parent_key FROM messages WHERE thread_id = ?", thread_id)
    assert sorted(keys) == sorted(str(k) for k, _ in stored)
    assert depths[keys[0]] == 0, "the first message of a thread is its root"
    assert max(depths.values()) >= 1, "replies are shown deeper than the root"
    for key, parent in stored:
        if parent is not None and str(parent) in depths:
            assert depths[str(key)] > depths[str(parent)], (key, parent, depths)
    return keys


def test_search_facet_thread_permalink_export(
    page: Page, corpus_site: Site, tmp_path: Path
) -> None:
    # search from the home page form
    search_from_home(page, corpus_site, PHRASE)
    assert parse_qs(urlsplit(page.url).query)["q"] == [PHRASE]
    expect(page.locator("#q")).to_have_value(PHRASE)
    total = total_of(page)
    assert total >= page.locator("#results .hit").count() > 0

    # narrow with a list facet: the total shrinks to the facet's count and the URL carries it
    facets = page.locator('#facets a.facet[data-facet="list"]')
    expect(facets.first).to_be_visible()
    smaller = None
    for i in range(facets.count()):
        count = int(re.sub(r"[^\d]", "", facets.nth(i).locator(".count").inner_text()))
        if 0 < count < total:
            smaller = (facets.nth(i), count)
            break
    assert smaller is not None, "expected a list facet narrower than the total"
    facet, count = smaller
    name = facet.inner_text().replace(facet.locator(".count").inner_text(), "").strip()
    before = page.url
    facet.click()
    page.wait_for_url(lambda url: url != before)
    assert total_of(page) == count < total
    params = parse_qs(urlsplit(page.url).query)
    assert params.get("list") == [name] or f"list:{name}" in " ".join(params.get("q", [])), page.url
    assert page.locator("#results .hit").count() > 0
    page.go_back()
    expect(page.locator("#results .hit").first).to_be_visible()

    # a hit's subject opens the message; its permalink lands on the same message
    subject = page.locator("#results .hit a.subject").first
    message_path = path_of(str(subject.get_attribute("href")))
    assert re.fullmatch(r"/messages/[^/]+", message_path), message_path
    subject.click()
    page.wait_for_url(re.compile(re.escape(message_path) + "$"))
    article = page.locator("article#message")
    expect(article).to_be_visible()
    shown = article.inner_text()
    permalink = page.locator("#permalink")
    assert path_of(str(permalink.get_attribute("href"))) == message_path
    permalink.click()
    page.wait_for_load_state()
    assert path_of(page.url) == message_path
    assert page.locator("article#message").inner_text() == shown
    shared = page.context.new_page()  # the permalink followed from elsewhere
    shared.goto(corpus_site.url + message_path)
    assert shared.locator("article#message").inner_text() == shown
    shared.close()
    expect(page.locator("#source")).to_have_attribute("href", message_path + "/source")

    # back to the results: open the largest thread among the hits
    page.goto(corpus_site.url + "/search?q=" + PHRASE.replace('"', "%22").replace(" ", "+"))
    thread_id = open_biggest_thread(page, corpus_site)
    keys = check_thread(page, corpus_site, thread_id)

    # export the thread as mbox with the browser's download, re-import it into a fresh store
    export = page.locator("#export-mbox")
    assert path_of(str(export.get_attribute("href"))) == f"/threads/{thread_id}.mbox"
    with page.expect_download() as info:
        export.click()
    saved = tmp_path / "thread.mbox"
    info.value.save_as(saved)
    assert info.value.failure() is None
    store = Store(tmp_path / "reimport" / "store.db")
    try:
        store.add_list("reimport", "mbox", paths=[str(saved)])
        summary = sync_list(store, "reimport", MboxSource([str(saved)]), workers=1)
        assert summary.clean and summary.quarantined == 0, summary.as_dict()
        reimported = sorted(row[0] for row in store.conn.execute("SELECT key FROM messages"))
    finally:
        store.close()
    assert reimported == sorted(keys)


def test_search_and_thread_without_javascript(nojs_page: Page, corpus_site: Site) -> None:
    page = nojs_page
    search_from_home(page, corpus_site, PHRASE)
    assert total_of(page) > 1
    assert page.locator("#facets a.facet").count() > 0
    thread_id = open_biggest_thread(page, corpus_site)
    check_thread(page, corpus_site, thread_id)
