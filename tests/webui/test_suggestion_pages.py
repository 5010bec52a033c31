"""/persons/suggestions in pages (issue 14: at 1M messages the page listed every suggestion,
18 MB of HTML): `web.suggestions_page_size` suggestions a page, `?page=N` (past the end an
empty page linking back, not a number a 400), the JSON twin's keys kept with the page's place
added, the CSV export whole (or one page's with `?page=`), links to one suggestion landing on
the page that shows it, and the kept figures equal to the computed ones with a bounded
number of entries however many pages are asked."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from store import merges
from store.store import Store
from tests.support.stores import kept_figures, sync_mbox
from tests.support.webauth import login
from webui import create_app, merge_suggestions, stats_figures

PAGE = 3
NAMES = [f"{first} Example" for first in ("Ada", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus")]
"""Each signs from two addresses (Ada from three), busiest first: 7 suggestions, 3 pages."""
CSRF = re.compile(rb'name="csrf_token" value="[^"]*"')


def _mbox(path: Path) -> Path:
    messages, n = [], 0
    for rank, name in enumerate(NAMES):
        first = name.split()[0].lower()
        addresses = [f"{first}@one.example"] * (20 - 2 * rank) + [f"{first}@two.example"]
        if rank == 0:
            addresses.append(f"{first}@three.example")
        for address in addresses:
            n += 1
            day = f"{n % 28 + 1:02d} Mar 2021 10:{n % 60:02d}:00 +0000"
            messages.append(
                f"From {address} Mon {day}\nFrom: {name} <{address}>\nDate: Mon, {day}\n"
                f"Subject: note {n}\nMessage-ID: <note-{n}@example>\n\nbody {n}\n"
            )
    path.write_text("\n".join(messages))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("suggestions")
    data = where / "data"
    store = Store(data / "store.db")
    try:
        sync_mbox(store, "names", [str(_mbox(where / "names.mbox"))])
    finally:
        store.close()
    return data


@pytest.fixture()
def data(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(built, copy)  # a test may decide, and the figures are kept in it
    return copy


def _app(data: Path, cache: bool = True) -> Flask:
    settings = {"data_dir": data, "web.secure_cookies": False, "web.suggestions_page_size": PAGE}
    app = create_app(load_settings(env={}, overrides=settings))
    app.config["STATS_FIGURE_CACHE"] = cache
    return app


def _facilitator(app: Flask, data: Path, create: bool = True) -> FlaskClient:
    client = app.test_client()
    login(client, data, "facilitator", username="pages", create=create)
    return client


def _names(answer: Any) -> list[str]:
    return [s["name"] for s in answer.get_json()["suggestions"]]


def test_first_middle_last_and_past_the_end_pages(data: Path) -> None:
    client = _facilitator(_app(data), data)
    everything = client.get("/persons/suggestions.csv").get_data(as_text=True).splitlines()
    assert sorted({row.split(",")[0] for row in everything[1:]}) == NAMES  # the whole export
    assert len(everything) == 1 + 3 + 2 * 6
    shown = [_names(client.get(f"/persons/suggestions.json?page={n}")) for n in (1, 2, 3)]
    assert shown == [NAMES[0:3], NAMES[3:6], NAMES[6:7]]
    assert _names(client.get("/persons/suggestions.json")) == NAMES[0:3]
    twin = "/persons/suggestions.json?page="
    places = {
        n: {k: v for k, v in client.get(f"{twin}{n}").get_json().items() if k != "suggestions"}
        for n in (1, 2, 3, 4, 50)
    }
    assert places[1] == {
        "page": 1,
        "per_page": PAGE,
        "pages": 3,
        "total": 7,
        "limit": 1000,
        "prev": None,
        "next": f"{twin}2",
    }
    assert (places[2]["prev"], places[2]["next"]) == (f"{twin}1", f"{twin}3")
    assert (places[3]["prev"], places[3]["next"]) == (f"{twin}2", None)
    for beyond in (4, 50):  # empty, linking back to the last page
        assert places[beyond] == {**places[3], "page": beyond, "prev": f"{twin}3", "next": None}
        assert _names(client.get(f"{twin}{beyond}")) == []
    middle = client.get("/persons/suggestions?page=2").get_data(as_text=True)
    on_it = [n for n in NAMES if f'id="{merge_suggestions.suggestion_anchor(n)}"' in middle]
    assert on_it == NAMES[3:6]
    assert 'rel="prev" href="/persons/suggestions?page=1"' in middle
    assert 'rel="next" href="/persons/suggestions?page=3"' in middle
    assert "7 to review · page 2 of 3" in middle
    past = client.get("/persons/suggestions?page=9")
    assert past.status_code == 200
    text = past.get_data(as_text=True)
    assert 'id="past-end"' in text and 'href="/persons/suggestions?page=3"' in text
    assert "page 9 of" not in text and "(the busiest names" not in text
    assert 'href="/persons/suggestions.json?page=9" type="application/json"' in text
    assert 'class="suggestion"' not in text
    rows = client.get("/persons/suggestions.csv?page=3").get_data(as_text=True).splitlines()
    assert rows[1:] == [row for row in everything[1:] if row.startswith(NAMES[6])]


@pytest.mark.parametrize("asked", ["x", "0", "-1", "2.5", ""])
def test_a_page_that_is_not_a_number_from_1_is_a_400(data: Path, asked: str) -> None:
    client = _facilitator(_app(data), data)
    answer = client.get(f"/persons/suggestions.json?page={asked}")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["status"] == 400  # the one error handler's answer
    page = client.get(f"/persons/suggestions?page={asked}")
    assert page.status_code == 400 and "page must be" in page.get_data(as_text=True)


def test_the_json_twin_keeps_its_keys(data: Path) -> None:
    client = _facilitator(_app(data), data)
    found = client.get("/persons/suggestions.json?page=1").get_json()
    assert set(found) == {
        "suggestions",
        "page",
        "per_page",
        "pages",
        "total",
        "limit",
        "prev",
        "next",
    }
    first = found["suggestions"][0]
    assert set(first) == {"name", "anchor", "persons", "pairs"}
    assert set(first["persons"][0]) == {
        "key",
        "name",
        "messages",
        "total",
        "first",
        "last",
        "identities",
        "url",
    }
    assert (first["name"], len(first["persons"]), len(first["pairs"])) == (NAMES[0], 3, 3)


def test_a_link_to_one_suggestion_lands_on_the_page_showing_it(data: Path) -> None:
    client = _facilitator(_app(data), data)
    posters = client.get("/stats/people.json?limit=500").get_json()["posters"]
    links = {p["duplicate_of"]: p["suggestion_url"] for p in posters if p["duplicate_of"]}
    assert sorted(links) == NAMES
    assert links[NAMES[0]] == "/persons/suggestions#s-ada-example"  # the first page as before
    assert links[NAMES[6]] == "/persons/suggestions?page=3#s-gus-example"
    for url in links.values():
        path, anchor = url.split("#")
        assert f'id="{anchor}"' in client.get(path).get_data(as_text=True), url


def test_the_page_lists_the_suggestions_the_people_page_flags(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # both the busiest SUGGESTIONS_SHOWN (1,000): /stats/people flagged 1,000 while the page
    # listed 200, so a flag past the 200th linked to a page that did not show it (300k: 3,956)
    monkeypatch.setattr(stats_figures, "SUGGESTIONS_SHOWN", 5)
    client = _facilitator(_app(data), data)
    posters = client.get("/stats/people.json?limit=500").get_json()["posters"]
    assert sorted({p["duplicate_of"] for p in posters if p["duplicate_of"]}) == NAMES[:5]
    assert client.get("/persons/suggestions.json?page=2").get_json()["total"] == 5
    assert "5 to review (the busiest names" in client.get("/persons/suggestions").get_data(
        as_text=True
    )
    assert _names(client.get("/persons/suggestions.json?page=2")) == NAMES[3:5]


def test_different_people_answers_the_page_it_was_on(data: Path) -> None:
    app = _app(data)
    client = app.test_client()
    session = login(client, data, "facilitator", username="pages")
    page = client.get("/persons/suggestions?page=2").get_data(as_text=True)
    assert page.count('name="page" value="2"') == 3  # one pair on each of its suggestions
    first = client.get("/persons/suggestions.json?page=2").get_json()["suggestions"][0]
    a, b = first["pairs"][0]
    form = {"a": a, "b": b, "page": "2", "csrf_token": session.csrf}
    answer = client.post("/persons/distinct", data=form)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/persons/suggestions?page=2")
    assert NAMES[3] not in _names(client.get("/persons/suggestions.json?page=2"))
    a, b = client.get("/persons/suggestions.json").get_json()["suggestions"][0]["pairs"][0]
    form = {"a": a, "b": b, "page": "x", "csrf_token": session.csrf}
    answer = client.post("/persons/distinct", data=form)  # not a page: the first
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/persons/suggestions")


@pytest.mark.parametrize("back", ["\u00b2", "\u0663", "0" * 5000 + "2"])
def test_different_people_with_a_page_int_refuses_answers_the_first(data: Path, back: str) -> None:
    """ "²" and "٣" pass str.isdigit() but not int() (or int() reads "٣" as 3), and int()
    refuses more than 4,300 digits: the change is recorded, the answer is not a 500."""
    app = _app(data)
    client = app.test_client()
    session = login(client, data, "facilitator", username="pages")
    a, b = client.get("/persons/suggestions.json").get_json()["suggestions"][0]["pairs"][0]
    form = {"a": a, "b": b, "page": back, "csrf_token": session.csrf}
    answer = client.post("/persons/distinct", data=form)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/persons/suggestions")


def _answers(app: Flask, data: Path, create: bool) -> dict[str, Any]:
    client = _facilitator(app, data, create)
    found: dict[str, Any] = {}
    for url in ("", "?page=2", "?page=3", "?page=4", "?page=40"):
        html = CSRF.sub(b"", client.get(f"/persons/suggestions{url}").get_data())
        twin = client.get(f"/persons/suggestions.json{url}").get_json()
        table = client.get(f"/persons/suggestions.csv{url}").get_data()
        found[url] = (html, twin, table)
    return found


def test_kept_pages_equal_the_computed_ones_and_stay_few(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(_app(data, cache=False), data, create=True)
    assert kept_figures(data) == 0
    computed = _answers(_app(data), data, create=False)
    # the whole list, its count, the export's rows and the 3 pages that exist; not one per
    # page asked
    assert kept_figures(data) == 6
    with monkeypatch.context() as patched:

        def fail(*_args: Any, **_kwargs: Any) -> None:
            raise AssertionError("kept suggestions were computed again")

        patched.setattr(merges, "suggestions", fail)
        patched.setattr(merge_suggestions, "identity_detail", fail)
        read_back = _answers(_app(data), data, create=False)
    assert computed == expected
    assert read_back == expected
    # pages past KEPT_PAGES are cut from the kept whole list: no entry of their own
    monkeypatch.setattr(merge_suggestions, "KEPT_PAGES", 1)
    conn = sqlite3.connect(data / "store.db")
    with conn:
        conn.execute("DELETE FROM figure_cache")
    conn.close()
    assert _answers(_app(data), data, create=False) == expected
    assert kept_figures(data) == 4


def test_a_rendered_page_reads_only_the_count(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _facilitator(_app(data), data)
    first = client.get("/persons/suggestions?page=2").get_data()
    asked: list[str] = []
    keep = stats_figures.kept

    def counted(key: str, compute: Any) -> dict[str, Any]:
        asked.append(key)
        return keep(key, compute)

    monkeypatch.setattr(merge_suggestions, "kept", counted)
    again = client.get("/persons/suggestions?page=2").get_data()
    assert CSRF.sub(b"", again) == CSRF.sub(b"", first)
    assert len(asked) == 1  # the count: the page's items are in its rendered list
    client.get("/persons/suggestions.json?page=2")
    assert len(asked) == 3  # the twin reads the count and the page


def test_the_list_is_computed_once_a_request_when_it_cannot_be_kept(data: Path) -> None:
    computed: list[int] = []
    compute = merge_suggestions.data

    def counted(conn: Any) -> dict[str, Any]:
        computed.append(1)
        return compute(conn)

    client = _facilitator(_app(data, cache=False), data)  # as while a sync writes
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(merge_suggestions, "data", counted)
        assert _names(client.get("/persons/suggestions.json?page=2")) == NAMES[3:6]
    assert computed == [1]  # its count and its page from one computation


def test_a_large_suggestion_chooses_its_pair_in_one_form(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # n persons have n(n-1)/2 pairs: past PAIR_BUTTONS persons one form chooses the two
    monkeypatch.setattr(merge_suggestions, "PAIR_BUTTONS", 2)
    app = _app(data)
    client = app.test_client()
    session = login(client, data, "facilitator", username="pages")
    page = client.get("/persons/suggestions").get_data(as_text=True)
    assert page.count('class="inline distinct-choose"') == 1  # Ada's 3 persons
    assert page.count('class="inline distinct-pair"') == 2  # Bob's and Cy's one pair each
    ada = client.get("/persons/suggestions.json").get_json()["suggestions"][0]
    keys = [p["key"] for p in ada["persons"]]
    chooser = page[page.index('class="inline distinct-choose"') :].split("</form>")[0]
    for side in ("a", "b"):
        assert f'<label for="s-ada-example-{side}">' in chooser
        assert re.findall(
            rf'<select id="s-ada-example-{side}" name="{side}">(.*?)</select>', chooser
        )
    assert re.findall(r'<option value="([^"]+)"', chooser) == keys + keys
    assert f'<option value="{keys[1]}" selected>' in chooser  # the second person on side b
    form = {"a": keys[2], "b": keys[0], "csrf_token": session.csrf}
    assert client.post("/persons/distinct", data=form).status_code == 303
    (left,) = [s for s in _names_pairs(client) if s[0] == NAMES[0]]
    assert sorted(map(sorted, left[1])) == sorted(
        sorted(p) for p in ([keys[0], keys[1]], [keys[1], keys[2]])
    )


def _names_pairs(client: FlaskClient) -> list[tuple[str, list[list[str]]]]:
    found = client.get("/persons/suggestions.json").get_json()["suggestions"]
    return [(s["name"], s["pairs"]) for s in found]
