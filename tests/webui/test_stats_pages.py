"""The statistics dashboards: access (anonymous: aggregate numbers of public lists; facilitator
pages need a login), JSON twins carrying the page's facts, CSV twins, parameters and errors.
On the web UI test store (public `reality`, private `divunal-author`)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from store import communities
from store.store import Store
from tests.support.webauth import login
from tests.webui.conftest import PRIVATE, PUBLIC
from webui import create_app

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
FACILITATOR_PAGES = ("/stats/people", "/stats/responses", "/stats/network", "/stats/cohorts")
TABLES = {
    "/stats": (
        "activity",
        "cohorts",
        "responses",
        "weekdays",
        "hours",
        "days",
        "threads_by_replies",
        "threads_by_participants",
    ),
    "/stats/people": ("posters", "newcomers"),
    "/stats/responses": ("unanswered", "periods"),
    "/stats/network": ("connectors", "pairs", "edges"),
    "/stats/cohorts": ("retention", "curve", "periods"),
}


class Tables(HTMLParser):
    """Every <table id=...> of a page as rows of cell texts, with each row's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[dict[str, str], list[str]]]] = {}
        self.links: list[str] = []
        self.figures: list[dict[str, str]] = []
        self._table: str | None = None
        self._row: tuple[dict[str, str], list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "table" and "id" in found:
            self._table = found["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = (found, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and "href" in found:
            self.links.append(found["href"])
        elif tag == "figure":
            self.figures.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _page(client: FlaskClient, url: str) -> tuple[str, Tables, dict[str, Any]]:
    """The HTML page, its tables and its JSON twin (by suffix and by Accept, equal)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.content_type.startswith("text/html")
    path, _, query = url.partition("?")
    twin = client.get(f"{path}.json" + (f"?{query}" if query else ""))
    assert twin.status_code == 200 and twin.content_type == "application/json"
    accepted = client.get(url, headers={"Accept": "application/json"})
    assert accepted.get_json() == twin.get_json()
    text = response.get_data(as_text=True)
    parser = Tables()
    parser.feed(text)
    return text, parser, twin.get_json()


def _csv(client: FlaskClient, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _n(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _body(rows: list[tuple[dict[str, str], list[str]]]) -> list[list[str]]:
    return [cells for attrs, cells in rows if "colspan" not in str(cells)][1:]


# -- /stats: public, aggregate ---------------------------------------------------------------


def test_overview_is_public_and_names_nobody(client: FlaskClient) -> None:
    text, parsed, data = _page(client, "/stats")
    assert data["scope"]["lists"] == [PUBLIC]  # the private list is invisible
    assert data["totals"]["messages"] > 100
    dumped = json.dumps(data)
    assert "/persons/" not in text and "/persons/" not in dumped
    assert '"person"' not in dumped and '"name": "Glyph' not in dumped
    assert "/stats/people" not in text  # no links to the facilitator pages
    assert all(not link.startswith("/persons") for link in parsed.links)
    # thread subjects are public archive content, with addresses obfuscated like the pages
    threads = client.get("/stats.csv?table=threads_by_replies&limit=1000").get_data(as_text=True)
    assert len(threads.splitlines()) > 20
    assert EMAIL.findall(text + dumped + threads) == []


def test_overview_json_is_the_page(client: FlaskClient) -> None:
    _, parsed, data = _page(client, "/stats")
    activity = {attrs["data-period"]: cells for attrs, cells in parsed.tables["activity"][1:]}
    assert len(activity) == len(data["activity"]) > 3
    for row in data["activity"]:
        assert activity[row["period"]] == [
            row["period"],
            *(
                _n(row[k])
                for k in ("messages", "threads_started", "threads_active", "participants")
            ),
            _n(row["newcomers"]),
        ]
    assert sum(r["messages"] for r in data["activity"]) == data["totals"]["messages"]
    weekdays = parsed.tables["weekdays"][1][1]
    assert weekdays == [_n(d["messages"]) for d in data["weekdays"]]
    hours = {a["data-hour"]: c[1] for a, c in parsed.tables["hours"][1:]}
    assert hours == {str(h["hour"]): _n(h["messages"]) for h in data["hours"]}
    threads = [a["data-thread"] for a, _ in parsed.tables["threads-by-replies"][1:]]
    assert threads == [t["thread"] for t in data["threads_by_replies"]]
    assert data["threads_by_replies"][0]["thread_url"] in parsed.links
    cohorts = {a["data-period"]: c for a, c in parsed.tables["cohorts"][1:]}
    first = data["cohorts"][0]
    assert cohorts[first["period"]][1:] == [
        _n(first[k]) for k in ("active", "newcomers", "returning", "lapsed")
    ]


def test_overview_charts_read_the_json_twin(client: FlaskClient) -> None:
    text, parsed, data = _page(client, "/stats?period=year")
    assert parsed.figures and all(f["data-src"] == data["links"]["json"] for f in parsed.figures)
    assert data["links"]["json"] == "/stats.json?period=year"
    for figure in parsed.figures:
        rows = data
        for part in figure["data-path"].split("."):
            rows = rows[part]
        assert isinstance(rows, list) and figure["data-x"] in rows[0]
        assert all(s in rows[0] for s in figure["data-series"].split(","))
    assert "vendor/chart.umd.min.js" in text and "charts.js" in text
    assert [r["period"] for r in data["activity"]][:1] == [data["totals"]["first"][:4]]


def test_overview_csv_twins(client: FlaskClient) -> None:
    data = client.get("/stats.json").get_json()
    table = _csv(client, "/stats.csv")
    assert table[0] == [
        "period",
        "start",
        "messages",
        "threads_started",
        "threads_active",
        "participants",
        "newcomers",
    ]
    first = data["activity"][0]
    assert table[1] == [str(first[k]) for k in table[0]]
    hours = _csv(client, "/stats.csv?table=hours")
    assert hours[0] == ["hour", "messages"] and len(hours) == 25
    assert sum(int(r[1]) for r in hours[1:]) == data["totals"]["messages"]
    for name in TABLES["/stats"]:
        assert _csv(client, f"/stats.csv?table={name}")[0], name
    # every link the page offers works
    for url in data["links"]["csv"].values():
        assert client.get(url).status_code == 200


def test_overview_scope_parameters(client: FlaskClient) -> None:
    data = client.get(f"/stats.json?list={PUBLIC}&start=2002-01-01&end=2002-12-31").get_json()
    assert data["scope"]["start"] == "2002-01-01" and data["scope"]["end"] == "2002-12-31"
    assert all(r["period"].startswith("2002-") for r in data["activity"])
    whole = client.get("/stats.json?period=quarter").get_json()
    assert all(re.fullmatch(r"\d{4}-Q[1-4]", r["period"]) for r in whole["activity"])
    assert client.get("/stats.json?limit=2").get_json()["threads_by_replies"][2:] == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("period=week", 400),
        ("start=2020-02-30", 400),
        ("start=yesterday", 400),
        ("start=2020-02-01&end=2020-01-01", 400),
        ("limit=0", 400),
        ("limit=many", 400),
        ("lapse_days=-1", 400),
        ("table=nope", 400),
        ("list=nope", 404),
        ("community=nope", 404),
        (f"list={PRIVATE}", 404),  # invisible to anonymous visitors
    ],
)
def test_bad_parameters(client: FlaskClient, query: str, status: int) -> None:
    for suffix in ("", ".json", ".csv"):
        response = client.get(f"/stats{suffix}?{query}")
        assert response.status_code == status, (suffix, query)
    error = client.get(f"/stats.json?{query}").get_json()["error"]
    assert error["status"] == status and error["message"]


# -- facilitator pages --------------------------------------------------------------------------


@pytest.mark.parametrize("path", FACILITATOR_PAGES)
def test_facilitator_pages_need_a_login(client: FlaskClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get(f"{path}.json").status_code == 401
    assert client.get(f"{path}.csv").status_code == 401


@pytest.mark.parametrize("role", ["facilitator", "secretariat"])
def test_logged_in_users_see_every_page_and_private_lists(
    app: Flask, client: FlaskClient, role: str
) -> None:
    login(client, app, role)
    overview = client.get("/stats.json")
    assert overview.get_json()["scope"]["lists"] == [PRIVATE, PUBLIC]
    assert overview.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/stats.json?list={PRIVATE}").status_code == 200
    text = client.get("/stats").get_data(as_text=True)
    assert "/stats/people" in text
    for path, tables in TABLES.items():
        assert client.get(path).status_code == 200, path
        for i, name in enumerate(tables):
            query = "" if i == 0 else f"?table={name}"
            assert _csv(client, f"{path}.csv{query}")[0], (path, name)
        assert client.get(f"{path}.csv?table=nope").status_code == 400


def test_people_page(app: Flask, client: FlaskClient) -> None:
    login(client, app)
    _, parsed, data = _page(client, f"/stats/people?list={PUBLIC}&limit=5")
    posters = data["posters"]
    assert len(posters) == 5 and posters[0]["messages"] >= posters[-1]["messages"]
    rows = parsed.tables["posters"][1:]
    assert [a["data-person"] for a, _ in rows] == [p["person"] for p in posters]
    assert [c[1] for _, c in rows] == [_n(p["messages"]) for p in posters]
    assert all(f"/persons/{p['person']}" in parsed.links for p in posters)
    assert posters[0]["person_url"] == f"/persons/{posters[0]['person']}"
    # every participant of the whole list is a newcomer of it
    assert data["newcomers_total"] == data["totals"]["participants"]
    table = _csv(client, f"/stats/people.csv?list={PUBLIC}")
    assert table[0][:3] == ["person", "name", "messages"]
    assert len(table) - 1 == data["totals"]["participants"]  # the CSV has every row
    assert table[1][:3] == [posters[0]["person"], posters[0]["name"], str(posters[0]["messages"])]
    newcomers = _csv(client, f"/stats/people.csv?list={PUBLIC}&table=newcomers")
    assert newcomers[0][:4] == ["person", "name", "first_post", "thread"]


def test_responses_page(app: Flask, client: FlaskClient) -> None:
    login(client, app)
    _, parsed, data = _page(client, f"/stats/responses?list={PUBLIC}")
    summary = data["responses"]
    assert data["unanswered_total"] == summary["threads"] - summary["answered"] > 0
    rows = parsed.tables["unanswered"][1:]
    assert [a["data-thread"] for a, _ in rows] == [u["thread"] for u in data["unanswered"]]
    flagged = [a["data-thread"] for a, _ in rows if a.get("class") == "newcomer"]
    assert flagged == [u["thread"] for u in data["unanswered"] if u["newcomer"]]
    assert flagged  # some newcomers' first threads went unanswered in this old list
    table = _csv(client, f"/stats/responses.csv?list={PUBLIC}")
    assert table[0] == ["thread", "subject", "person", "name", "date", "messages", "newcomer"]
    assert len(table) - 1 == data["unanswered_total"]
    assert table[1][0] == data["unanswered"][0]["thread"]


def test_network_page(app: Flask, client: FlaskClient) -> None:
    login(client, app)
    _, parsed, data = _page(client, f"/stats/network?list={PUBLIC}")
    totals = data["network"]
    assert totals["reply_posts"] >= totals["self_replies"] and totals["edges_total"] > 0
    rows = parsed.tables["connectors"][1:]
    assert [a["data-person"] for a, _ in rows] == [c["person"] for c in data["connectors"]]
    assert [c[1] for _, c in rows] == [_n(c["counterparts"]) for c in data["connectors"]]
    counts = [c["counterparts"] for c in data["connectors"]]
    assert counts == sorted(counts, reverse=True)
    edges = _csv(client, f"/stats/network.csv?list={PUBLIC}&table=edges")
    assert edges[0] == ["source", "source_name", "target", "target_name", "replies"]
    assert len(edges) - 1 == totals["edges_total"]


def test_cohorts_page(app: Flask, client: FlaskClient) -> None:
    login(client, app)
    _, parsed, data = _page(client, f"/stats/cohorts?list={PUBLIC}&horizon=3&period=quarter")
    retention = data["retention"]
    assert retention["horizon"] == 3 and retention["period"] == "quarter"
    rows = parsed.tables["retention"][1:]
    assert [a["data-cohort"] for a, _ in rows] == [r["cohort"] for r in retention["rows"]]
    first = retention["rows"][0]
    assert rows[0][1] == [
        first["cohort"],
        _n(first["size"]),
        *("" if n is None else str(n) for n in first["retained"][1:]),
    ]
    assert sum(r["size"] for r in retention["rows"]) == retention["curve"][0]["members"]
    table = _csv(client, f"/stats/cohorts.csv?list={PUBLIC}&horizon=3&period=quarter")
    assert table[0] == ["cohort", "size", "k0", "k1", "k2", "k3"]
    assert table[1][:2] == [first["cohort"], str(first["size"])]
    assert client.get("/stats/cohorts.json?horizon=-1").status_code == 400


def test_community_scope(webui_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(webui_data, data)
    store = Store(data / "store.db")
    try:
        communities.upsert(store.conn, "twisted", [PUBLIC, PRIVATE])
    finally:
        store.close()
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    client = app.test_client()
    anonymous = client.get("/stats.json?community=twisted").get_json()
    # anonymous visitors count the community's public list only
    assert anonymous["scope"]["lists"] == [PUBLIC] and anonymous["scope"]["community"] == "twisted"
    assert "twisted" in anonymous["choices"]["communities"]
    whole = client.get(f"/stats.json?list={PUBLIC}").get_json()
    assert anonymous["totals"] == whole["totals"]
    login(client, app)
    both = client.get("/stats.json?community=twisted").get_json()
    assert both["scope"]["lists"] == [PRIVATE, PUBLIC]
    assert both["totals"]["messages"] > whole["totals"]["messages"]
    assert client.get("/stats/people.json?community=nope").status_code == 404


def test_several_communities_ask_for_a_scope_first(webui_data: Path, tmp_path: Path) -> None:
    # issue 13: /stats mixed unrelated communities by default
    data = tmp_path / "data"
    shutil.copytree(webui_data, data)
    store = Store(data / "store.db")
    try:
        communities.upsert(store.conn, "one", [PUBLIC])
        communities.upsert(store.conn, "two", [PRIVATE])
    finally:
        store.close()
    app = create_app(
        load_settings(env={}, overrides={"data_dir": data, "web.secure_cookies": False})
    )
    client = app.test_client()
    # an anonymous visitor sees one community only: the dashboard as before
    assert "totals" in client.get("/stats.json").get_json()
    login(client, app)
    chooser = client.get("/stats.json").get_json()
    assert chooser["choose_scope"] and "totals" not in chooser
    by_name = {c["community"]: c for c in chooser["communities"]}
    assert set(by_name) == {"one", "two"}
    one = client.get("/stats.json?community=one").get_json()["totals"]
    assert by_name["one"]["messages"] == one["messages"] > 0
    assert by_name["two"]["lists"] == [PRIVATE]
    page = client.get("/stats").get_data(as_text=True)
    assert 'id="choose-scope"' in page and by_name["one"]["url"] in page
    assert "totals" in client.get("/stats.json?scope=all").get_json()
    assert "totals" in client.get(f"/stats.json?list={PUBLIC}").get_json()


def test_overview_long_tables_are_folded_below_the_threads(client: FlaskClient) -> None:
    # issue 13: a long table after every chart; "Most discussed threads" far down the page
    html = client.get(f"/stats?list={PUBLIC}").get_data(as_text=True)
    assert html.index('id="threads-h"') < html.index('id="activity-h"')
    for table in ("activity", "cohorts", "responses-by-period", "hours", "days"):
        at = html.index(f'<table id="{table}"')
        opened = html.rindex("<details", 0, at)
        assert html.rfind("</details>", 0, at) < opened  # inside a <details>
        assert "open" not in html[opened : html.index(">", opened)]  # collapsed
    assert html.count('<details class="long-table">') == 5
