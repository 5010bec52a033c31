"""A facilitator in a real browser, on real usrp-users mail: logs in, reads the statistics (the
charts drawn from the JSON twins under the CSP), confirms a suggested merge, sees the merged
person's page, undoes the merge from the record, and logs out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CORPUS, Site, build_store, require_browser, serve
from tests.support.webauth import PASSWORD, create_account

require_browser()  # before playwright is imported

from playwright.sync_api import Page, expect  # noqa: E402

USRP = CORPUS / "hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz"


@pytest.fixture(scope="module")
def usrp_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("browser-usrp")
    build_store(data_dir, {"usrp": [USRP]})
    with serve(data_dir) as site:
        yield site


def _watch_csp(page: Page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def _log_in(page: Page, site: Site, role: str) -> None:
    username = create_account(site.data_dir / "store.db", role)
    page.goto(f"{site.url}/login?next=/stats")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page.locator("#account .user")).to_contain_text(username)


def test_statistics_merge_and_undo(page: Page, usrp_site: Site, tmp_path: Path) -> None:
    problems = _watch_csp(page)
    _log_in(page, usrp_site, "facilitator")
    assert page.url.endswith("/stats")
    # the monthly activity chart is drawn from /stats.json; the table holds the same numbers
    chart = page.locator("figure.chart canvas").first
    expect(chart).to_be_visible()
    assert chart.bounding_box() is not None and chart.bounding_box()["height"] > 50  # type: ignore[index]
    assert page.locator("table").count() >= 1

    page.goto(f"{usrp_site.url}/persons/suggestions")
    suggestion = page.locator("li.suggestion").first
    expect(suggestion).to_contain_text("Huacheng Zeng")
    suggestion.get_by_role("button", name="Same person").click()
    # the surviving person's page lists both addresses and draws their activity
    expect(page.locator("#identities")).to_contain_text("zenghuacheng@gmail.com")
    expect(page.locator("#identities")).to_contain_text("huacheng.zeng@gmail.com")
    expect(page.locator("#person-summary")).to_contain_text("14 messages")
    expect(page.locator("figure.chart canvas").first).to_be_visible()

    page.goto(f"{usrp_site.url}/persons/events")
    first = page.locator("tr.event").first
    expect(first).to_contain_text("merge")
    first.get_by_role("button", name="Undo").click()
    expect(page.locator("tr.event").first).to_contain_text("undo")
    page.goto(f"{usrp_site.url}/persons/suggestions")
    expect(page.locator("li.suggestion").first).to_contain_text("Huacheng Zeng")

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{usrp_site.url}/persons")
    assert "/login" in page.url
    assert problems == []


def test_anonymous_statistics_name_nobody(page: Page, usrp_site: Site) -> None:
    problems = _watch_csp(page)
    page.goto(f"{usrp_site.url}/stats")
    expect(page.locator("figure.chart canvas").first).to_be_visible()
    text = page.locator("main").inner_text()
    assert "Marcus D Leech" not in text and "Persons" not in page.locator("header").inner_text()
    assert problems == []
