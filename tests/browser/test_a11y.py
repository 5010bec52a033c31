"""Every page in a real browser: axe-core finds no serious or critical accessibility violation in
the light and the dark theme, and at a phone's width (390x844) no page overflows sideways and no
table cell breaks a word inside.

axe-core is vendored by scripts/vendor-assets into webui/assets/vendor/ (never served by the app)
and injected into each page by Playwright; the context bypasses the page's CSP for that script
only because Playwright's injected script is inline.  The pages: usrp-users as two lists of one
community, with rosters, a meeting, sync runs, seen by a secretariat account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from tests.browser.conftest import CORPUS, Site, require_browser, serve
from tests.support.usrp_migration import COMMUNITY, NEW, OLD, invoke, usrp_data_dir
from tests.support.webauth import PASSWORD, create_account

require_browser()  # before playwright is imported

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "webui/assets/vendor/axe.min.js"
ROSTERS = REPO / "tests/data/rosters"
PHONE: ViewportSize = {"width": 390, "height": 844}

# (name, path, needs a login); thread, message, period and person paths are found on the pages
FIXED_PAGES: list[tuple[str, str, bool]] = [
    ("home", "/", False),
    ("list", f"/lists/{NEW}/", False),
    ("search with results", "/search?q=usrp", False),
    ("search no results", "/search?q=zzqqxxnothing", False),
    ("search with filters", f"/search?q=usrp+list:{NEW}+after:2021&sort=date", False),
    ("search no results, filters", f"/search?q=zzqqxxnothing+list:{NEW}+after:2021-02", False),
    ("search help", "/search/help", False),
    ("error page", "/lists/no-such-list/", False),
    ("stats", "/stats", True),
    ("stats people", "/stats/people", True),
    ("stats responses", "/stats/responses", True),
    ("stats cohorts", "/stats/cohorts", True),
    ("stats network", "/stats/network", True),
    ("persons", "/persons", True),
    ("person suggestions", "/persons/suggestions", True),
    ("audit index", "/audit", True),
    ("audit", f"/audit/{COMMUNITY}", True),
    ("meetings", "/meetings", True),
    ("meeting", "/meetings/usrp%20call", True),
    ("rosters", "/rosters", True),
    ("roster", f"/rosters/{OLD}", True),
    ("community roster", f"/rosters/community/{COMMUNITY}", True),
    ("runs", "/runs", True),
    ("quarantine", "/quarantine", True),
    ("removals", "/removals", True),
]

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "")),
    }));
}"""

# single-word cells (dates, names, counts, headings) whose text is laid out on more than one line
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("main td, main th")) {
    const text = cell.textContent.trim();
    if (!text || /\\s/.test(text) || cell.getClientRects().length === 0) continue;
    // long unbroken tokens (addresses, URLs, ids) may wrap anywhere
    if (text.length > 32 || /@|:\\/\\//.test(text)) continue;
    const rects = [];
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) rects.push(r);
    }
    rects.sort((a, b) => a.top - b.top);
    let lines = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 2) { lines += 1; bottom = r.bottom; }
      else bottom = Math.max(bottom, r.bottom);
    }
    if (lines > 1) broken.push(text);
  }
  return broken.slice(0, 10);
}"""


@pytest.fixture(scope="module")
def a11y_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    data = usrp_data_dir(CORPUS, tmp_path_factory, tmp_path_factory.mktemp("a11y") / "data")
    invoke(
        data,
        "communities",
        "add",
        COMMUNITY,
        "--lists",
        f"{OLD},{NEW}",
        "--old",
        OLD,
        "--cutover",
        "2021-03-08",
        "--closed",
        "2021-03-10",
    )
    for name, file, as_of in (
        (OLD, "usrp-old_list_members-f.txt", "2021-03-01"),
        (NEW, "usrp-new-roster.json", "2021-06-01"),
    ):
        invoke(data, "rosters", "import", name, str(ROSTERS / file), "--as-of", as_of)
    people = data.parent / "call.txt"
    people.write_text("Participants\nLeech Marcus D\nKossler\nMary Uduma\n")
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(data), "meetings", "import", "usrp call", str(people)]
        + ["--community", COMMUNITY],
    )
    assert result.exit_code == 0, result.output
    username = create_account(data / "store.db", "secretariat")
    with serve(data) as site:
        yield site, username


def _log_in(page: Page, site: Site, username: str) -> None:
    page.goto(f"{site.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page.locator("#account .user")).to_contain_text(username)


def _first_href(page: Page, url: str, selector: str) -> str:
    page.goto(url)
    link = page.locator(selector).first
    href: str = link.evaluate("a => new URL(a.href).pathname + new URL(a.href).search")
    response = page.goto(url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + href)
    assert response is not None and response.ok, href
    return href


@pytest.fixture(scope="module")
def pages(a11y_site: tuple[Site, str], browser: Browser) -> list[tuple[str, str, bool]]:
    """Every page to check, the linked ones found by following links as a reader would."""
    site, username = a11y_site
    ctx = browser.new_context()
    page = ctx.new_page()
    _log_in(page, site, username)
    period = _first_href(page, f"{site.url}/lists/{NEW}/", "main a.period[href]")
    thread = _first_href(page, site.url + period, 'main a[href^="/threads/"]')
    message = _first_href(page, site.url + thread, 'main a[href^="/messages/"]')
    person = _first_href(
        page, f"{site.url}/persons", 'main table a[href^="/persons/"]:not([href*="?"])'
    )
    ctx.close()
    found = [
        ("period", period, False),
        ("thread", thread, False),
        ("message", message, False),
        ("person", person, True),
    ]
    return [*FIXED_PAGES, *found]


@pytest.fixture()
def staff_context(browser: Browser, a11y_site: tuple[Site, str]) -> Iterator[BrowserContext]:
    site, username = a11y_site
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    _log_in(ctx.new_page(), site, username)
    yield ctx
    ctx.close()


def _visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation_on_any_page(
    scheme: str,
    a11y_site: tuple[Site, str],
    pages: list[tuple[str, str, bool]],
    staff_context: BrowserContext,
    browser: Browser,
) -> None:
    site, _ = a11y_site
    anonymous = browser.new_context(bypass_csp=True)
    problems: dict[str, Any] = {}
    try:
        checks = [*pages, ("login", "/login", False)]
        for name, path, _needs_login in checks:
            ctx = anonymous if name == "login" else staff_context
            page = ctx.new_page()
            page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            _visit(page, site.url + path)
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(AXE_RUN)
            if violations:
                problems[f"{name} {path}"] = violations
            page.close()
    finally:
        anonymous.close()
    if problems:
        print(json.dumps(problems, indent=1))
    assert not problems, f"serious or critical axe violations ({scheme}): " + ", ".join(problems)


def test_phone_width_no_page_overflows_and_no_word_is_broken(
    a11y_site: tuple[Site, str], pages: list[tuple[str, str, bool]], browser: Browser
) -> None:
    site, username = a11y_site
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=1)
    problems: dict[str, Any] = {}
    try:
        page = ctx.new_page()
        _log_in(page, site, username)
        for name, path, _needs_login in [*pages, ("login", "/login", False)]:
            _visit(page, site.url + path)
            width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            broken = page.evaluate(BROKEN_WORDS)
            if width[0] > width[1] or broken:
                problems[f"{name} {path}"] = {"scrollWidth/innerWidth": width, "broken": broken}
    finally:
        ctx.close()
    if problems:
        print(json.dumps(problems, indent=1))
    assert not problems, "pages too wide or words broken at 390 px: " + ", ".join(problems)


def test_wide_meeting_page_breaks_no_word(a11y_site: tuple[Site, str], browser: Browser) -> None:
    site, username = a11y_site
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        _log_in(page, site, username)
        _visit(page, f"{site.url}/meetings/usrp%20call")
        assert page.locator("main td").count() > 0
        assert page.evaluate(BROKEN_WORDS) == []
    finally:
        ctx.close()


def test_axe_reports_a_serious_violation_when_there_is_one(
    a11y_site: tuple[Site, str], staff_context: BrowserContext
) -> None:
    """The check above can fail: an image without alt text and a nameless button are found."""
    site, _ = a11y_site
    page = staff_context.new_page()
    _visit(page, f"{site.url}/search/help")
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
        '<img src="/static/favicon.svg"><button type="button"></button>')"""
    )
    page.add_script_tag(path=str(AXE))
    found = {v["id"] for v in page.evaluate(AXE_RUN)}
    assert {"image-alt", "button-name"} <= found
