"""The search page in the browser (issue 13): the filters sidebar beside the results on a
desktop, a closed panel above them on a phone (no sideways overflow), the date histogram
narrowing a search when a bar is clicked (also without JavaScript), and a filter chip removing
its filter.  On the corpus site of conftest.py (`reality`, `divunal-author`)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.browser.conftest import Site, require_browser

require_browser()  # before playwright is imported

from playwright.sync_api import Browser, Page, expect  # noqa: E402


def _total(page: Page) -> int:
    return int(re.sub(r"[^\d]", "", page.locator("#total").inner_text()))


def _query(page: Page) -> str:
    return parse_qs(urlsplit(page.url).query).get("q", [""])[0]


def _narrow_by_the_histogram(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/search?q=list:reality")
    total = _total(page)
    histogram = page.locator("#histogram")
    expect(histogram).to_be_visible()
    assert histogram.get_attribute("data-unit") == "year"
    bars = histogram.locator("a.bar")
    counts = [int(str(bars.nth(i).get_attribute("data-count"))) for i in range(bars.count())]
    assert sum(counts) <= total and len(counts) >= 2
    busiest = bars.nth(counts.index(max(counts)))
    year = str(busiest.get_attribute("data-bucket"))
    busiest.click()
    page.wait_for_url(re.compile(r"after"))
    assert _query(page) == f"list:reality after:{year} before:{int(year) + 1}"
    assert _total(page) == max(counts) < total
    assert page.locator("#histogram").get_attribute("data-unit") == "month"
    chip = page.locator('#active-filters li.chip[data-field="after"] a.remove')
    chip.click()
    page.wait_for_url(lambda url: "after" not in parse_qs(urlsplit(url).query)["q"][0])
    assert _query(page) == f"list:reality before:{int(year) + 1}"
    assert max(counts) <= _total(page) <= total


def test_histogram_narrows_and_a_chip_widens_again(page: Page, corpus_site: Site) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    _narrow_by_the_histogram(page, corpus_site)


def test_histogram_works_without_javascript(nojs_page: Page, corpus_site: Site) -> None:
    nojs_page.set_viewport_size({"width": 1280, "height": 900})
    _narrow_by_the_histogram(nojs_page, corpus_site)


def test_desktop_sidebar_beside_the_results(page: Page, corpus_site: Site) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{corpus_site.url}/search?q=reality")
    facets = page.locator("#facets")
    expect(facets).to_be_visible()  # open without a click
    expect(page.locator("#facet-panel > summary")).to_be_hidden()
    side = facets.bounding_box()
    hit = page.locator("#results .hit").first.bounding_box()
    assert side is not None and hit is not None
    assert side["x"] + side["width"] <= hit["x"]  # beside, not above
    assert hit["y"] < 400, hit  # the first hit is near the top, not under the facets
    sender = page.locator('#facets a.facet[data-facet="sender"]').first
    name = sender.inner_text().rsplit(" ", 1)[0]
    assert "@" not in name and " at " not in name
    sender.click()
    page.wait_for_url(re.compile(r"person"))
    expect(page.locator('#active-filters li.chip[data-field="person"]')).to_contain_text(name)


def test_phone_panel_is_closed_above_the_results(browser: Browser, corpus_site: Site) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        for query in ("reality", "list:reality after:2000", "zzqqxxnothing list:reality"):
            page.goto(f"{corpus_site.url}/search?q={query}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (query, width)
        page.goto(f"{corpus_site.url}/search?q=reality")
        summary = page.locator("#facet-panel > summary")
        expect(summary).to_be_visible()
        expect(page.locator("#facets")).to_be_hidden()
        hit = page.locator("#results .hit").first.bounding_box()
        panel = page.locator("#facet-panel").bounding_box()
        assert hit is not None and panel is not None
        assert panel["y"] < hit["y"] < 844  # the first hit on the first screen
        summary.click()
        expect(page.locator("#histogram a.bar").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
