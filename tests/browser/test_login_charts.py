"""Logging in through the form in a real browser, then a Chart.js chart drawn from a page's JSON
twin under the site's Content-Security-Policy (no 'unsafe-eval', no inline styles), with the
numbers also in a table; the page works at 390px and without JavaScript."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint
from flask.typing import ResponseReturnValue
from werkzeug.serving import BaseWSGIServer, make_server

from config.settings import load_settings
from store.store import Store
from tests.browser.conftest import Site, require_browser
from tests.support.webauth import PASSWORD, create_account
from webui import create_app
from webui.auth import require_role
from webui.views import CsvTable, render

require_browser()  # before playwright is imported

from playwright.sync_api import Browser, ConsoleMessage, Page, expect  # noqa: E402

MONTHS = [
    {"month": "2003-01", "messages": 12, "senders": 4},
    {"month": "2003-02", "messages": 30, "senders": 9},
    {"month": "2003-03", "messages": 7, "senders": 3},
]
PAGE = """{% extends "base.html" %}
{% from "_macros.html" import chart, chart_scripts %}
{% block title %}Chart test{% endblock %}
{% block content %}
<h1>Chart test</h1>
{{ chart("/chart-test.json", "stats.months", "month", ["messages", "senders"], "line",
         "Messages and senders per month", series_labels=["Messages", "Senders"]) }}
{{ chart("/chart-test.json", "stats.months", "month", "messages", "bar", "Messages") }}
<table id="numbers"><thead><tr><th>Month</th><th>Messages</th><th>Senders</th></tr></thead>
<tbody>{% for m in stats.months %}<tr><td>{{ m.month }}</td><td class="count">{{ m.messages }}</td>
<td class="count">{{ m.senders }}</td></tr>{% endfor %}</tbody></table>
{% endblock %}
{% block scripts %}{{ chart_scripts() }}{% endblock %}
"""


def chart_blueprint(template_dir: Path) -> Blueprint:
    """A test-only page with two charts, its JSON twin and its CSV export (facilitators)."""
    (template_dir / "chart_test.html").write_text(PAGE)
    bp = Blueprint("chart_test", __name__, template_folder=str(template_dir))

    @bp.get("/chart-test")
    @bp.get("/chart-test.json", endpoint="chart_json")
    @bp.get("/chart-test.csv", endpoint="chart_csv")
    @require_role("facilitator")
    def chart_page() -> ResponseReturnValue:
        rows = [(m["month"], m["messages"], m["senders"]) for m in MONTHS]
        table = CsvTable("chart-test.csv", ["month", "messages", "senders"], rows)
        return render("chart_test.html", {"stats": {"months": MONTHS}}, table=table)

    return bp


@pytest.fixture(scope="module")
def chart_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("chart-site")
    Store(data_dir / "store.db").close()
    create_account(data_dir, "facilitator", "fran")
    # the default Secure `__Host-` cookie: Chromium treats http://127.0.0.1 as a secure context
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    app.register_blueprint(chart_blueprint(tmp_path_factory.mktemp("chart-templates")))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="chart-test-server", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", data_dir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sourceFile || ""));
});
"""


def watch(page: Page) -> list[str]:
    """Console errors and warnings of the page (CSP reports land there too)."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.add_init_script(WATCH_CSP)
    return problems


def log_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/chart-test")
    expect(page).to_have_url(f"{site.url}/login?next=/chart-test")
    page.fill("#username", "fran")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page).to_have_url(f"{site.url}/chart-test")


def test_login_then_chart_renders_without_csp_violations(page: Page, chart_site: Site) -> None:
    problems = watch(page)
    page.goto(f"{chart_site.url}/login")
    page.fill("#username", "fran")
    page.fill("#password", "not the password")
    page.click("#login button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Unknown username or wrong password.")
    problems.clear()  # the 401 of the failed login is reported on the console

    log_in(page, chart_site)
    expect(page.locator("#account .user")).to_have_text("fran (facilitator)")
    figures = page.locator("figure.chart")
    expect(figures).to_have_count(2)
    for i in range(2):
        expect(figures.nth(i)).to_have_class("chart rendered")
        canvas = figures.nth(i).locator("canvas")
        expect(canvas).to_be_visible()
        box = canvas.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
    assert page.evaluate(
        "Chart.getChart(document.querySelector('figure.chart canvas'))"
        ".data.datasets.map(d => d.data)"
    ) == [[12, 30, 7], [4, 9, 3]]
    expect(page.locator("#numbers tbody tr")).to_have_count(3)
    assert page.evaluate("window.__csp") == []
    assert problems == []

    page.click("#account button[type=submit]")  # log out (a POST with the CSRF token)
    expect(page.locator("#login-link")).to_be_visible()
    page.goto(f"{chart_site.url}/chart-test")
    expect(page).to_have_url(f"{chart_site.url}/login?next=/chart-test")


def test_chart_page_at_390px(browser: Browser, chart_site: Site) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(10_000)
    try:
        page = ctx.new_page()
        problems = watch(page)
        log_in(page, chart_site)
        expect(page.locator("figure.chart").first).to_have_class("chart rendered")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        box = page.locator("figure.chart canvas").first.bounding_box()
        assert box and 300 < box["width"] <= 390
        expect(page.locator("#account button[type=submit]")).to_be_visible()
        assert page.evaluate("window.__csp") == []
        assert problems == []
    finally:
        ctx.close()


def test_without_javascript_the_table_is_the_page(nojs_page: Page, chart_site: Site) -> None:
    log_in(nojs_page, chart_site)
    expect(nojs_page.locator("figure.chart").first).to_be_hidden()
    expect(nojs_page.locator("#numbers tbody tr")).to_have_count(3)
    nojs_page.click("#account button[type=submit]")  # the logout form needs no script
    expect(nojs_page.locator("#login-link")).to_be_visible()


def test_csv_download_needs_the_login(page: Page, chart_site: Site) -> None:
    anonymous = page.request.get(f"{chart_site.url}/chart-test.csv")
    assert anonymous.status == 401
    log_in(page, chart_site)
    response = page.request.get(f"{chart_site.url}/chart-test.csv")
    assert response.status == 200
    assert response.text().splitlines()[:2] == ["month,messages,senders", "2003-01,12,4"]
