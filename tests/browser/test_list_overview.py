"""The list page's overview in a real browser (issue 13), with and without JavaScript: the sort
toggle reorders the most active threads, each year row links to its months' period pages, and
the home page draws a sparkline per list with its accessible label."""

from __future__ import annotations

import re

from tests.browser.conftest import Site, require_browser

require_browser()  # before playwright is imported

from playwright.sync_api import Page, expect  # noqa: E402

LIST = "reality"


def _column(page: Page, table: str, cell: str) -> list[str]:
    return page.locator(f"table#{table} tr.thread-row {cell}").all_inner_texts()


def check_overview(page: Page, site: Site) -> None:
    page.goto(site.url + "/")
    spark = page.locator(f'tr.list[data-list="{LIST}"] svg.sparkline')
    expect(spark).to_have_attribute("role", "img")
    label = spark.get_attribute("aria-label") or ""
    assert re.fullmatch(r"[\d.,]+ messages per month, \d{4}–\d{4}", label), label
    page.locator(f'tr.list[data-list="{LIST}"] th a').click()
    expect(page).to_have_url(f"{site.url}/lists/{LIST}/")

    busy = [int(n) for n in _column(page, "active-threads", "td.in-scope")]
    assert busy and busy == sorted(busy, reverse=True)
    expect(page.locator('p.sort-toggle strong[data-sort="activity"]')).to_be_visible()
    page.locator('p.sort-toggle a[data-sort="date"]').click()
    expect(page).to_have_url(f"{site.url}/lists/{LIST}/?sort=date")
    expect(page.locator('p.sort-toggle strong[data-sort="date"]')).to_be_visible()
    dates = page.locator("table#active-threads tr.thread-row time").evaluate_all(
        "els => els.map(e => e.getAttribute('datetime'))"
    )
    assert dates and dates == sorted(dates, reverse=True)

    years = page.locator("table#periods tr.year")
    assert years.count() > 1
    row = years.nth(years.count() - 1)
    year = row.get_attribute("data-year")
    month = row.locator("a.period").first
    name = month.get_attribute("data-period") or ""
    count = int(month.locator("span.count").inner_text())
    assert name.startswith(f"{year}-")
    month.click()
    expect(page).to_have_url(f"{site.url}/lists/{LIST}/{name}/")
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("#messages li.msg")).to_have_count(count)
    in_period = sum(int(n) for n in _column(page, "threads", "td.in-scope"))
    assert 0 < in_period <= count


def test_list_overview(page: Page, corpus_site: Site) -> None:
    check_overview(page, corpus_site)


def test_list_overview_without_javascript(nojs_page: Page, corpus_site: Site) -> None:
    check_overview(nojs_page, corpus_site)
