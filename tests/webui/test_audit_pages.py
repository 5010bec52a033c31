"""The migration audit, roster and meeting pages: access by role (anonymous 302/401,
facilitator 403 on secretariat pages), JSON and CSV twins, CSRF-protected confirm/unmatch forms,
on usrp-users' Mailman 2.1 and Mailman 3 eras as two lists (numbers checked in tests/analytics/)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from listarchive.cli import cli
from tests.support.usrp_migration import COMMUNITY, NEW, OLD, invoke, usrp_data_dir
from tests.support.webauth import login
from webui import create_app

ROSTERS = Path(__file__).resolve().parents[1] / "data" / "rosters"
SECRETARIAT_PAGES = [
    "/audit",
    f"/audit/{COMMUNITY}",
    "/rosters",
    f"/rosters/{OLD}",
    f"/rosters/community/{COMMUNITY}",
]
FACILITATOR_PAGES = ["/meetings", "/meetings/usrp%20call"]


@pytest.fixture()
def data(corpus: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    data = usrp_data_dir(corpus, tmp_path_factory, tmp_path / "data")
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
    invoke(
        data,
        "rosters",
        "import",
        OLD,
        str(ROSTERS / "usrp-old_list_members-f.txt"),
        "--as-of",
        "2021-03-01",
    )
    invoke(
        data,
        "rosters",
        "import",
        NEW,
        str(ROSTERS / "usrp-new-roster.json"),
        "--as-of",
        "2021-06-01",
    )
    people = tmp_path / "call.txt"
    people.write_text("Participants\nLeech Marcus D\nKossler\nMary Uduma\n")
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(data),
            "meetings",
            "import",
            "usrp call",
            str(people),
            "--tag",
            "volunteer: docs",
            "--community",
            COMMUNITY,
        ],
    )
    assert result.exit_code == 0, result.output
    return data


@pytest.fixture()
def app(data: Path) -> Flask:
    return create_app(
        load_settings(env={}, overrides={"data_dir": data, "web.secure_cookies": False})
    )


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    for page in SECRETARIAT_PAGES + FACILITATOR_PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"], page
        assert client.get(page + ".json").status_code == 401, page
        assert client.get(page + ".csv").status_code == 401, page
    response = client.post("/meetings/usrp%20call/unmatch", data={"participant": "#1"})
    assert response.status_code in (400, 401)


def test_facilitators_may_not_see_rosters_or_the_audit(client: FlaskClient, app: Flask) -> None:
    login(client, app, "facilitator")
    for page in SECRETARIAT_PAGES:
        assert client.get(page).status_code == 403, page
        assert client.get(page + ".json").status_code == 403, page
        assert client.get(page + ".csv").status_code == 403, page
    for page in FACILITATOR_PAGES:
        assert client.get(page).status_code == 200, page


def test_audit_index_and_navigation(client: FlaskClient, app: Flask) -> None:
    login(client, app, "secretariat")
    index = client.get("/audit.json").get_json()
    assert index["communities"] == [
        {
            "name": COMMUNITY,
            "lists": sorted([OLD, NEW]),
            "old_list": OLD,
            "new_list": NEW,
            "old_new_inferred": False,  # --old names the other list the new one
            "cutover": "2021-03-08",
            "closed": "2021-03-10",
            "url": f"/audit/{COMMUNITY}",
        }
    ]
    html = client.get("/audit").get_data(as_text=True)
    for link in ('href="/audit"', 'href="/rosters"', 'href="/persons"', 'href="/meetings"'):
        assert link in html, link


def test_facilitator_navigation_has_no_secretariat_links(client: FlaskClient, app: Flask) -> None:
    login(client, app, "facilitator")
    html = client.get("/stats").get_data(as_text=True)
    assert 'href="/persons"' in html and 'href="/audit"' not in html
    client.post("/logout", data={"csrf_token": login(client, app, "facilitator").csrf})
    anonymous = client.get("/stats").get_data(as_text=True)
    assert 'href="/persons"' not in anonymous


def test_audit_page(client: FlaskClient, app: Flask) -> None:
    login(client, app, "secretariat")
    page = client.get(f"/audit/{COMMUNITY}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert 'data-status="old_only"' in html and "Doug Blackburn" in html
    assert "Current Recommended UHD RFNoC Versions?" in html  # sent after the cutover
    data = client.get(f"/audit/{COMMUNITY}.json").get_json()
    assert data["summary"]["old_only"] == 3 and data["summary"]["old_after_close_messages"] == 21
    assert data["persons"][0]["url"].startswith("/persons/p")
    only = client.get(f"/audit/{COMMUNITY}.json?status=not_yet_seen").get_json()
    assert [p["name"] for p in only["persons"]] == [
        "Johannes Demel",
        "Kelvin Lok",
        "Mehlhose, Matthias",
    ]
    table = client.get(f"/audit/{COMMUNITY}.csv?status=old_only")
    assert table.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(table.get_data(as_text=True))))
    assert rows[0][:3] == ["key", "name", "status"]
    assert [r[1] for r in rows[1:]] == ["Doug Blackburn", "SungWon Chung", "Xiang Ma"]
    window = client.get(f"/audit/{COMMUNITY}.json?since=2021-03-05").get_json()
    assert window["since"] == "2021-03-05" and window["window_days"] is None
    assert client.get(f"/audit/{COMMUNITY}.json?window=30").get_json()["since"] == "2021-02-06"
    assert client.get(f"/audit/{COMMUNITY}.json?status=lost").status_code == 400
    assert client.get(f"/audit/{COMMUNITY}.json?since=March").status_code == 400
    assert client.get(f"/audit/{COMMUNITY}.json?window=0").status_code == 400
    for odd in ("\u00b2", "0" * 5000 + "1"):  # str.isdigit(), but int() refuses it: not a 500
        assert (
            client.get(f"/audit/{COMMUNITY}.json", query_string={"window": odd}).status_code == 400
        )
    assert client.get("/audit/nope.json").status_code == 404


def test_audit_summary_figures_add_up(client: FlaskClient, app: Flask) -> None:
    # issue 13: "Active on the old list before the cutover: 12" beside "Moved: 13" -- the page
    # now shows who is counted, the statuses summing to it, and the old-list actives split
    login(client, app, "secretariat")
    html = client.get(f"/audit/{COMMUNITY}?since=2020-01-01").get_data(as_text=True)
    n = {m[0]: int(m[1]) for m in re.findall(r'<dd data-n="([a-z_]+)"[^>]*>(\d+)</dd>', html)}
    statuses = ("moved", "old_only", "not_yet_seen", "new_face", "returning")
    assert n["persons"] == sum(n[k] for k in statuses) > 0
    assert n["active_since"] == n["moved"] + n["old_only"] + n["not_yet_seen"]
    assert n["active_since"] == n["active_before"] + n["active_only_after_cutover"]
    assert n["active_before"] < n["active_since"]  # this window has moved-after-cutover people
    assert html.count('class="def"') >= 10  # each figure is defined on the page


def test_roster_pages(client: FlaskClient, app: Flask) -> None:
    login(client, app, "secretariat")
    index = client.get("/rosters.json").get_json()
    assert [(r["list"], r["members"], r["current"]) for r in index["rosters"]] == [
        (NEW, 10, True),
        (OLD, 11, True),
    ]
    assert index["communities"][0]["community"] == COMMUNITY
    assert client.get("/rosters").status_code == 200
    assert client.get("/rosters.csv").get_data(as_text=True).startswith("list,as_of,members")
    report = client.get(f"/rosters/{OLD}.json").get_json()
    assert report["summary"]["members_never_posted"] == 2
    html = client.get(f"/rosters/community/{COMMUNITY}").get_data(as_text=True)
    assert "kelvin.lok266@gmail.com" in html and "have not joined" in html
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/rosters/community/{COMMUNITY}.csv").get_data(as_text=True))
        )
    )
    assert sum(1 for r in rows if r[0] == "old_not_joined") == 4
    assert client.get("/rosters/nope.json").status_code == 404
    # a window after the archive's last post: the page says so instead of "0 posters"
    assert "No posts on" not in client.get(f"/rosters/{OLD}").get_data(as_text=True)
    late = client.get(f"/rosters/{OLD}.json?since=2025-01-01").get_json()
    assert not late["posts_since"] and late["last_post"]
    html = client.get(f"/rosters/{OLD}?since=2025-01-01").get_data(as_text=True)
    assert f"No posts on {OLD} since 2025-01-01 (its last post: {late['last_post']})" in html


def test_meeting_forms_need_the_csrf_token(client: FlaskClient, app: Flask, data: Path) -> None:
    session = login(client, app, "facilitator")
    shown = client.get("/meetings/usrp%20call.json").get_json()
    assert [p["match"] for p in shown["participants"]] == ["matched", "suggested", "none"]
    suggestion = shown["participants"][1]["suggestions"][0]
    assert suggestion["name"] == "Rob Kossler" and suggestion["url"].startswith("/persons/")
    html = client.get("/meetings/usrp%20call").get_data(as_text=True)
    assert 'name="csrf_token"' in html and "Confirm Rob Kossler" in html
    form = {"participant": "#2", "person_key": suggestion["key"]}
    assert client.post("/meetings/usrp%20call/confirm", data=form).status_code == 400
    response = client.post(
        "/meetings/usrp%20call/confirm", data={**form, "csrf_token": session.csrf}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/meetings/usrp%20call")
    after = client.get("/meetings/usrp%20call.json").get_json()["participants"][1]
    assert (after["match"], after["person_name"]) == ("confirmed", "Rob Kossler")
    tags = client.get("/meetings.json").get_json()["tags"]
    assert {t["tag"]: [p["name"] for p in t["persons"]] for t in tags} == {
        "attended: usrp call": ["Marcus D Leech", "Rob Kossler"],
        "volunteer: docs": ["Marcus D Leech", "Rob Kossler"],
    }
    response = client.post(
        "/meetings/usrp%20call/unmatch",
        data={"participant": "Leech Marcus D"},
        headers={"X-CSRF-Token": session.csrf, "Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.get_json()["match"] == "unmatched"
    events = CliRunner().invoke(cli, ["--data-dir", str(data), "persons", "events", "--json"])
    assert f'"actor": "web:{session.username}"' in events.stdout
    headers = {"X-CSRF-Token": session.csrf}
    assert (
        client.post(
            "/meetings/usrp%20call/confirm", data={"participant": "#2"}, headers=headers
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/meetings/nope/unmatch", data={"participant": "#1"}, headers=headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/meetings/usrp%20call/confirm", data={**form, "person_key": "pnobody"}, headers=headers
        ).status_code
        == 409
    )
    csv_text = client.get("/meetings/usrp%20call.csv").get_data(as_text=True)
    assert csv_text.splitlines()[0] == (
        "position,name,match,person_key,person_name,last_post,recent_posts,active,suggestions"
    )
    assert client.get("/meetings/nope.json").status_code == 404


def _address_note(html: str) -> str:
    match = re.search(r'<span id="address-note">([^<]*)</span>', html)
    assert match, "the footer has no address note"
    return match.group(1)


def test_footer_says_how_addresses_are_shown_on_each_page(client: FlaskClient, app: Flask) -> None:
    login(client, app, "secretariat")
    for path in (f"/rosters/{OLD}", f"/rosters/community/{COMMUNITY}", "/persons"):
        html = client.get(path).get_data(as_text=True)
        assert "@" in html, path  # full addresses on the page ...
        assert _address_note(html) == "addresses on this page are shown in full (staff only)", path
    for path in ("/", "/search?q=usrp", "/rosters"):
        html = client.get(path).get_data(as_text=True)
        assert _address_note(html) == "addresses are shown obfuscated", path
    # the flag is per request: it does not leak into the next page
    client.get(f"/rosters/{OLD}")
    assert _address_note(client.get("/").get_data(as_text=True)) == "addresses are shown obfuscated"


def test_meeting_confirm_by_hand_looks_a_person_up_by_name(client: FlaskClient, app: Flask) -> None:
    # issue 13: confirming by hand asked for a typed person key
    session = login(client, app, "facilitator")
    html = client.get("/meetings/usrp%20call").get_data(as_text=True)
    assert "person key p" not in html and "Find a person" in html
    found = client.get("/meetings/usrp%20call.json?find=3&q=kossler").get_json()["lookup"]
    assert found["position"] == 3 and [p["name"] for p in found["persons"]] == ["Rob Kossler"]
    page = client.get("/meetings/usrp%20call?find=3&q=kossler").get_data(as_text=True)
    assert 'id="lookup-3"' in page and 'class="inline lookup-result"' in page
    form = {"participant": "#3", "person_key": found["persons"][0]["key"]}
    done = client.post("/meetings/usrp%20call/confirm", data={**form, "csrf_token": session.csrf})
    assert done.status_code == 303
    after = client.get("/meetings/usrp%20call.json").get_json()["participants"][2]
    assert (after["match"], after["person_name"]) == ("confirmed", "Rob Kossler")
    assert client.get("/meetings/usrp%20call.json?find=9&q=x").status_code == 400
