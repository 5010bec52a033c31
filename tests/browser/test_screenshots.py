"""Screenshots of a few pages for the README (home, search, thread, statistics at 1280x900, the
thread on a phone), on the twisted-python corpus lists, as small JPEGs.

`scripts/screenshots` runs this module with README_SCREENSHOTS_DIR=docs/screenshots to refresh
the committed files; in the test suite the screenshots go to a temporary folder and only their
size is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser.conftest import Site, require_browser
from tests.support.webauth import PASSWORD, create_account

require_browser()  # before playwright is imported

from playwright.sync_api import Browser, Page, ViewportSize, expect  # noqa: E402

MAX_BYTES = 150_000
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def _shoot(page: Page, url: str, dest: Path, quality: int = 70) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(dest), type="jpeg", quality=quality)
    assert dest.stat().st_size < MAX_BYTES, (dest, dest.stat().st_size)


def test_readme_screenshots(corpus_site: Site, browser: Browser, tmp_path: Path) -> None:
    out = Path(os.environ.get("README_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    username = create_account(corpus_site.data_dir / "store.db", "facilitator")
    ctx = browser.new_context(viewport=DESKTOP, color_scheme="light")
    try:
        page = ctx.new_page()
        # what a reader sees (not logged in), then the statistics (facilitators)
        _shoot(page, f"{corpus_site.url}/", out / "home.jpg")
        _shoot(page, f"{corpus_site.url}/search?q=reality+inventory", out / "search.jpg")
        page.goto(f"{corpus_site.url}/search?q=%22object+proxies%22")
        thread = page.locator('main a[href^="/threads/"]').first
        thread_path = thread.evaluate("a => new URL(a.href).pathname")
        # the thread page is wider (outline beside 76-column mail): a little more compression
        _shoot(page, corpus_site.url + thread_path, out / "thread.jpg", quality=55)
        page.set_viewport_size(PHONE)
        _shoot(page, corpus_site.url + thread_path, out / "thread-phone.jpg")
        page.set_viewport_size(DESKTOP)
        page.goto(f"{corpus_site.url}/login?next=/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login button[type=submit]")
        expect(page.locator("#account .user")).to_contain_text(username)
        _shoot(page, f"{corpus_site.url}/stats", out / "stats.jpg")
    finally:
        ctx.close()
    assert sorted(p.name for p in out.glob("*.jpg")) >= [
        "home.jpg",
        "search.jpg",
        "stats.jpg",
        "thread-phone.jpg",
        "thread.jpg",
    ]
