"""The search page and its JSON twin, the syntax help; on the corpus store of conftest.py (the
public `reality` list and the private `divunal-author`)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from store.store import Store
from tests.conftest import REPO
from tests.webui.conftest import PRIVATE
from webui.search_help import HELP
from webui.search_pages import facet_query, obfuscate_snippet, snippet_html

S, E = HIGHLIGHT_START, HIGHLIGHT_END


def _json(client: FlaskClient, url: str) -> dict:  # type: ignore[type-arg]
    response = client.get(url)
    assert response.status_code == 200, response.data
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}.json?{parts.query}" if parts.path == "/search" else url


def test_pages_carry_the_honest_total(client: FlaskClient) -> None:
    first = _json(client, "/search.json?q=list:reality&sort=date")
    api = _json(client, "/api/search?q=list:reality")
    assert first["total"] == api["total"] > 100
    assert first["pages"] == math.ceil(first["total"] / 20)
    assert len(first["hits"]) == 20 and first["prev"] is None
    second = _json(client, _path(first["next"]))
    assert second["page"] == 2 and second["total"] == first["total"]
    assert {h["id"] for h in first["hits"]}.isdisjoint(h["id"] for h in second["hits"])
    dates = [h["date"] for h in first["hits"] + second["hits"]]
    assert dates == sorted(dates, reverse=True)
    last = _json(client, f"/search.json?q=list:reality&sort=date&page={first['pages']}")
    assert len(last["hits"]) == first["total"] - 20 * (first["pages"] - 1)
    assert last["next"] is None and last["prev"]
    seen = len(first["hits"]) + len(second["hits"])
    assert seen + 20 * (first["pages"] - 3) + len(last["hits"]) == first["total"]


def test_cursor_pages_match_numbered_pages(client: FlaskClient) -> None:
    second = _json(client, "/search.json?q=list:reality&sort=date_asc&page=2")
    cursor = second["next_cursor"]
    by_cursor = _json(client, f"/search.json?q=list:reality&sort=date_asc&page=3&cursor={cursor}")
    by_page = _json(client, "/search.json?q=list:reality&sort=date_asc&page=3")
    assert [h["id"] for h in by_cursor["hits"]] == [h["id"] for h in by_page["hits"]]


def test_facet_links_filter_reproducibly(client: FlaskClient) -> None:
    data = _json(client, "/search.json?q=reality")
    assert set(data["facets"]) == {"list", "year", "sender"}
    assert data["facets"]["list"] == [
        {
            "value": "reality",
            "count": data["total"],
            "active": False,
            "query": "reality list:reality",
            "url": "/search?q=reality+list%3Areality",
        }
    ]
    year = data["facets"]["year"][0]
    assert "after:" in year["query"] and "before:" in year["query"]
    filtered = _json(client, _path(year["url"]))
    assert filtered["total"] == year["count"]
    assert all(h["date"].startswith(year["value"]) for h in filtered["hits"])
    again = next(f for f in filtered["facets"]["year"] if f["value"] == year["value"])
    assert again["active"] and again["query"] == "reality"
    sender = data["facets"]["sender"][0]
    assert "@" not in sender["value"]  # a person: shown by name, the link filters on the key
    assert sender["query"] == f"reality person:{sender['key']}"
    by_sender = _json(client, _path(sender["url"]))
    assert by_sender["total"] == sender["count"]
    assert by_sender["facets"]["sender"][0]["key"] == sender["key"]
    assert len(by_sender["facets"]["sender"]) == 1


def test_facet_query_quotes_and_toggles() -> None:
    assert facet_query("x", "sender", "pabc") == ("x person:pabc", False)
    assert facet_query("x person:pabc", "sender", "pabc") == ("x", True)
    assert facet_query("x list:a y", "list", "a") == ("x y", True)
    assert facet_query("", "year", "2001") == ("after:2001-01-01 before:2002-01-01", False)


def test_html_page_has_the_dom_hooks(client: FlaskClient) -> None:
    response = client.get("/search?q=list:reality&sort=date")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<form role="search" action="/search"' in html
    assert re.search(r'<input id="q" name="q"[^>]*aria-label="Search messages"', html)
    assert '<ol id="results"' in html and html.count('<li class="hit"') == 20
    total = _json(client, "/search.json?q=list:reality")["total"]
    assert f'<p id="total">{total:,} messages</p>' in html
    assert '<nav id="facets" aria-label="Filters">' in html
    assert re.search(
        r'<a class="facet active" data-facet="list" href="[^"]+"[^>]*>reality <span class="count">',
        html,
    )
    assert '<details id="facet-panel" class="facet-panel">' in html
    assert re.search(r'<section class="facet-group" id="histogram" data-unit="year">', html)
    assert re.search(r'<a href="/search\?q=[^"]+" class="bar" data-bucket="\d{4}"', html)
    assert '<nav id="pages" aria-label="Pages">' in html and 'rel="next"' in html
    assert re.search(r'<a class="subject" href="/messages/[a-z0-9]+">', html)
    assert re.search(r'<a class="thread" href="/threads/t[a-z0-9]+">', html)
    assert "@" not in re.sub(r'href="[^"]*"', "", html)  # addresses obfuscated in the text


def test_snippets_are_escaped_then_highlighted() -> None:
    assert snippet_html(f"<script>alert(1)</script> {S}deferred{E} & co") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>deferred</mark> &amp; co"
    )
    assert snippet_html(f"{S}open") == "<mark>open</mark>"
    assert snippet_html(f"close{E} {S}a{E}") == "close <mark>a</mark>"


def test_snippet_addresses_hidden_even_when_highlighted() -> None:
    hidden = obfuscate_snippet(f"mail {S}glyph{E}@{S}twistedmatrix{E}.com {S}now{E}")
    assert "twistedmatrix" not in hidden
    assert hidden == f"mail {S}glyph{E} at \u2026 {S}now{E}"
    assert str(snippet_html(f"x {S}jane@exa{E}mple.org")).count("<mark>") <= 1


def test_highlights_in_real_results(client: FlaskClient) -> None:
    html = client.get("/search?q=reality").get_data(as_text=True)
    assert "<mark>" in html and S not in html and E not in html
    data = _json(client, "/search.json?q=reality")
    assert all(S not in h["snippet"] and E not in h["snippet"] for h in data["hits"])


def test_group_by_thread(client: FlaskClient) -> None:
    data = _json(client, "/search.json?q=list:reality&sort=date&group=thread")
    groups = data["groups"]
    assert sum(len(g["hits"]) for g in groups) == len(data["hits"]) == 20
    assert len({g["thread_id"] for g in groups}) == len(groups) < 20
    by_id = {h["id"]: h for h in data["hits"]}
    assert all(by_id[k]["thread_id"] == g["thread_id"] for g in groups for k in g["hits"])
    assert "group=thread" in data["next"]
    html = client.get("/search?q=list:reality&sort=date&group=thread").get_data(as_text=True)
    assert html.count('<li class="thread-group"') == len(groups)
    assert html.count('<li class="hit"') == 20


def test_private_messages_never_found(client: FlaskClient, webui_data: Path) -> None:
    store = Store(webui_data / "store.db", readonly=True)
    assert store.get_list(PRIVATE).messages > 0
    store.close()
    # for an anonymous visitor the private list does not exist: refused as an unknown one
    hidden = client.get(f"/search.json?q=list:{PRIVATE}")
    assert hidden.status_code == 400
    assert hidden.get_json()["error"]["message"] == f"unknown list {PRIVATE!r}"
    everything = _json(client, "/search.json?q=after:1990")
    assert [f["value"] for f in everything["facets"]["list"]] == ["reality"]
    assert PRIVATE not in client.get("/search?q=after:1990").get_data(as_text=True)


def test_accept_json_and_empty_query(client: FlaskClient) -> None:
    response = client.get("/search?q=reality", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json" and response.get_json()["total"] > 0
    empty = _json(client, "/search.json")
    assert empty["total"] == 0 and empty["hits"] == []
    assert client.get("/search").status_code == 200


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ('/search.json?q="unbalanced', "quote"),
        ("/search.json?q=x&sort=nope", "sort"),
        ("/search.json?q=x&page=0", "page"),
        ("/search.json?q=x&page=two", "page"),
        ("/search.json?q=x&group=list", "group"),
        ("/search.json?q=before:yesterday", "date"),
    ],
)
def test_bad_queries_are_400_with_the_reason(client: FlaskClient, url: str, reason: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]["message"]
    page = client.get(url.replace("/search.json", "/search"), headers={"Accept": "text/html"})
    assert page.status_code == 400 and b"Traceback" not in page.data


def test_help_page_documents_the_syntax(client: FlaskClient) -> None:
    assert _json(client, "/search/help.json") == HELP
    html = client.get("/search/help").get_data(as_text=True)
    docs = (REPO / "docs/search.md").read_text()
    table = docs.split("| you write | it means |", 1)[1].split("\n\n", 1)[0]
    documented = [
        ex for row in table.splitlines()[2:] for ex in re.findall(r"`([^`]+)`", row.split("|")[1])
    ]
    assert documented == [ex for row in HELP["syntax"] for ex in row["examples"]]
    for row in HELP["syntax"]:
        assert f"| {row['meaning']} |" in docs
    assert "from:glyph@twistedmatrix.com" in html and "<table" in html
    examples = parse_qs(urlsplit(re.findall(r'href="(/search\?q=[^"]+)"', html)[0]).query)
    assert examples["q"] == [HELP["syntax"][0]["examples"][0]]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("(" * 250 + "a" + ")" * 250, "nests parentheses deeper than 10 levels"),
        ("reality " * 200, "too long: 1599 characters (at most 1000)"),
    ],
)
def test_hostile_queries_are_400_not_tracebacks(
    client: FlaskClient, query: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    for url in ("/search.json", "/api/search"):
        response = client.get(url, query_string={"q": query})
        assert response.status_code == 400, url
        assert reason in response.get_json()["error"]["message"]
    page = client.get("/search", query_string={"q": query}, headers={"Accept": "text/html"})
    assert page.status_code == 400
    assert reason in page.get_data(as_text=True)
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]
