"""The search page around its hits (issue 13), on both search backends: the date histogram
that narrows a search, the active filters as removable chips, the sender facet by person, and
the page for a search without result (what the query was understood as, and hints).  On the
corpus store of conftest.py (the public `reality` list, `divunal-author` private)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from search.query import parse_date
from tests.search.conftest import BACKENDS
from tests.support.es_app import es_app
from webui import create_app, search_view


@pytest.fixture(params=BACKENDS, scope="module")
def backend_app(request: pytest.FixtureRequest, webui_data: Path) -> Iterator[Flask]:
    """The app over the corpus store, searching through each backend."""
    if request.param == "sqlite":
        yield create_app(load_settings(env={}, overrides={"data_dir": webui_data}))
        return
    with es_app(webui_data) as app:
        yield app


@pytest.fixture()
def web(backend_app: Flask) -> FlaskClient:
    return backend_app.test_client()


def _json(client: FlaskClient, url: str) -> dict[str, Any]:
    """The JSON twin of a search page URL (as the page links to it)."""
    parts = urlsplit(url)
    path = "/search.json" if parts.path == "/search" else parts.path
    response = client.get(f"{path}?{parts.query}")
    assert response.status_code == 200, response.data
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def _query(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("q", [""])[0]


def test_the_histogram_narrows_by_year_then_by_month(web: FlaskClient) -> None:
    data = _json(web, "/search?q=list:reality")
    histogram = data["histogram"]
    assert histogram["unit"] == "year"  # the list spans more than three years
    buckets = histogram["buckets"]
    dated = _json(web, "/search?q=list:reality after:1900")["total"]
    assert sum(b["count"] for b in buckets) == dated > 0
    years = [int(b["value"]) for b in buckets]
    assert years == list(range(years[0], years[-1] + 1))  # every year, empty ones too
    assert histogram["max"] == max(b["count"] for b in buckets)
    busiest = max(buckets, key=lambda b: b["count"])
    year = _json(web, busiest["url"])
    following = int(busiest["value"]) + 1
    assert _query(busiest["url"]) == f"list:reality after:{busiest['value']} before:{following}"
    assert year["total"] == busiest["count"]
    assert year["histogram"]["unit"] == "month"
    months = [b for b in year["histogram"]["buckets"] if b["count"]]
    assert sum(b["count"] for b in months) == busiest["count"]
    assert all(b["value"].startswith(busiest["value"] + "-") for b in months)
    month = months[0]
    narrowed = _json(web, month["url"])
    assert narrowed["total"] == month["count"]
    assert _query(narrowed["histogram"]["buckets"][0]["url"] or "").count("after:") == 1
    assert [f["label"] for f in narrowed["filters"]] == [
        "list: reality",
        f"after: {month['after']}",
        f"before: {month['before']}",
    ]
    for bucket in year["histogram"]["buckets"]:  # a month without a match links nowhere
        assert (bucket["url"] is None) == (bucket["count"] == 0)


def test_a_bar_keeps_a_narrower_range_already_asked_for(web: FlaskClient) -> None:
    data = _json(web, "/search?q=list:reality after:2000-03-15 before:2000-05-10")
    buckets = data["histogram"]["buckets"]
    assert data["histogram"]["unit"] == "month"
    assert buckets[0]["value"] == "2000-03"  # the first match is of March
    assert buckets[0]["after"] == "2000-03-15"  # not the whole of March
    for bucket in buckets:
        assert parse_date(bucket["after"], "after") >= date(2000, 3, 15)
        assert parse_date(bucket["before"], "before") <= date(2000, 5, 10)
        if bucket["url"]:
            assert _json(web, bucket["url"])["total"] == bucket["count"]


def test_each_filter_is_a_chip_whose_link_removes_it(web: FlaskClient) -> None:
    query = "inventory list:reality after:2000 before:2003"
    data = _json(web, f"/search?q={query}&list=reality")
    chips = data["filters"]
    assert [(c["field"], c["value"]) for c in chips] == [
        ("list", "reality"),
        ("after", "2000"),
        ("before", "2003"),
        ("list", "reality"),  # the ?list= parameter
    ]
    assert [_query(c["url"]) for c in chips[:3]] == [
        "inventory after:2000 before:2003",
        "inventory list:reality before:2003",
        "inventory list:reality after:2000",
    ]
    assert "list" not in parse_qs(urlsplit(chips[3]["url"]).query)
    assert _query(chips[3]["url"]) == query
    wider = _json(web, chips[1]["url"])
    assert wider["total"] >= data["total"] > 0
    assert [c["field"] for c in wider["filters"]] == ["list", "before", "list"]
    html = web.get(f"/search?q={query}").get_data(as_text=True)
    assert '<ul id="active-filters" class="chips" aria-label="Active filters">' in html
    assert html.count('<li class="chip"') == 3
    assert 'aria-label="Remove the filter after: 2000"' in html


def test_a_sender_facet_filters_by_person_shown_by_name(web: FlaskClient) -> None:
    data = _json(web, "/search?q=reality")
    sender = data["facets"]["sender"][0]
    assert "@" not in sender["value"] and re.fullmatch(r"p[a-z0-9]+", sender["key"])
    narrowed = _json(web, sender["url"])
    (chip,) = [c for c in narrowed["filters"] if c["field"] == "person"]
    assert chip["label"] == f"sender: {sender['value']}"
    assert narrowed["total"] == sender["count"]
    assert _query(chip["url"]) == "reality"
    # a person filter with no match is still named (from the store, not the facet)
    empty = _json(web, f"/search?q=zzqqxxnothing person:{sender['key']}")
    assert empty["total"] == 0
    assert [c["label"] for c in empty["filters"]] == [f"sender: {sender['value']}"]


def test_no_result_shows_what_was_understood_and_hints(web: FlaskClient) -> None:
    query = 'zzqqxx "no such phrase" -windows list:reality after:2001-02'
    data = _json(web, f"/search?q={query}")
    assert data["total"] == 0 and data["histogram"] is None
    understood = data["understood"]
    assert understood["terms"] == ["zzqqxx", '"no such phrase"']
    assert understood["excluded"] == ["windows"]
    assert (understood["lists"], understood["after"]) == (["reality"], "2001-02-01")
    response = web.get(f"/search?q={query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<section id="no-results"' in html
    assert "<code>zzqqxx</code>" in html and "<code>&#34;no such phrase&#34;</code>" in html
    assert '<a href="/search/help">query syntax</a>' in html
    assert html.count(">without list: reality</a>") == 1
    assert 'id="facet-panel"' not in html  # no facets to show: no empty sidebar


def test_a_bad_query_keeps_the_form_and_the_reason(web: FlaskClient) -> None:
    response = web.get("/search?q=after:2020-13-01")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="after:2020-13-01"' in html and 'id="search-error"' in html


def test_a_person_without_a_name_is_shown_as_such(
    webui_data: Path, db: Any, tmp_path: Path
) -> None:
    """A person can have no display name (a store built before the bare `Name address` From
    rule had one on `reality`: the made-up address `@twistedmatrix.com`; every sender there
    has a name now): never an empty link, nor an address."""
    assert db.execute(
        "SELECT count(*) FROM persons p JOIN identities i ON i.person = p.id "
        "JOIN messages m ON m.identity = i.id JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE p.name = '' AND l.name = 'reality'"
    ).fetchone() == (0,)
    data = tmp_path / "data"
    shutil.copytree(webui_data, data)
    conn = sqlite3.connect(data / "store.db")
    (key,) = conn.execute(
        "SELECT p.key FROM persons p JOIN identities i ON i.person = p.id "
        "JOIN messages m ON m.identity = i.id JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE l.name = 'reality' ORDER BY p.key LIMIT 1"
    ).fetchone()
    conn.execute("UPDATE persons SET name = '' WHERE key = ?", (key,))
    conn.commit()
    conn.close()
    web = create_app(load_settings(env={}, overrides={"data_dir": data})).test_client()
    found = _json(web, f"/search?q=person:{key}")
    (entry,) = found["facets"]["sender"]
    assert (entry["key"], entry["value"]) == (key, "(no name)")
    assert [c["label"] for c in found["filters"]] == ["sender: (no name)"]


def test_the_histogram_spans_first_to_last_month_and_skips_impossible_years() -> None:
    def url(**changes: Any) -> str:
        return "/search?q=" + str(changes["q"])

    months = [("0000-05", 1), ("1999-11", 2), ("2000-02", 3), ("9999-12", 1)]
    histogram = search_view.histogram(months, "x", url)
    assert histogram is not None and histogram["unit"] == "month"
    assert [(b["value"], b["count"]) for b in histogram["buckets"]] == [
        ("1999-11", 2),
        ("1999-12", 0),
        ("2000-01", 0),
        ("2000-02", 3),
    ]
    assert histogram["buckets"][1]["url"] is None
    assert histogram["buckets"][0]["url"] == "/search?q=x after:1999-11 before:1999-12"
    assert search_view.histogram([("9999-12", 4)], "x", url) is None
