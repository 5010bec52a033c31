"""The `audit`, `rosters`, `meetings` and `tags` commands and their `--json` shapes, on usrp-users'
Mailman 2.1 and Mailman 3 eras as two lists (numbers checked in tests/analytics/)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from listarchive.cli import cli
from tests.support.usrp_migration import COMMUNITY, NEW, OLD, usrp_data_dir

ROSTERS = Path(__file__).resolve().parents[1] / "data" / "rosters"
SEED_2023 = next((Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds").glob("003_*"))


@pytest.fixture()
def data(corpus: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return usrp_data_dir(corpus, tmp_path_factory, tmp_path / "data")


def run(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def ok(data: Path, *args: str) -> str:
    result = run(data, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def js(data: Path, *args: str) -> Any:
    return json.loads(ok(data, *args, "--json"))


def test_audit(data: Path) -> None:
    ok(
        data,
        "communities",
        "add",
        COMMUNITY,
        "--lists",
        f"{OLD},{NEW}",
        "--cutover",
        "2021-03-08",
        "--closed",
        "2021-03-10",
    )
    report = js(data, "audit", COMMUNITY)
    assert set(report) == {
        "community",
        "old_list",
        "new_list",
        "old_new_inferred",
        "cutover",
        "cutover_inferred",
        "closed",
        "since",
        "window_days",
        "summary",
        "persons",
        "old_after_cutover",
        "old_after_close",
        "cross_posted",
        "continued_threads",
    }
    assert (report["old_list"], report["new_list"], report["old_new_inferred"]) == (OLD, NEW, True)
    assert report["summary"]["old_only"] == 3 and len(report["persons"]) == 121
    assert set(report["persons"][0]) == {
        "key",
        "name",
        "status",
        "active_before",
        "old_posts_in_window",
        "first_new",
        "new_posts",
        "old_after_cutover",
        "last_old_after_cutover",
        "last_post",
    }
    assert set(report["old_after_close"][0]) == {
        "key",
        "date",
        "subject",
        "person_key",
        "person_name",
        "thread_id",
        "lists",
        "also_on_new",
    }
    assert set(report["continued_threads"][0]) == {
        "thread_id",
        "subject",
        "started",
        "first_on_new",
        "old_posts",
        "new_posts",
    }
    only = js(data, "audit", COMMUNITY, "--status", "old_only")
    assert [p["name"] for p in only["persons"]] == ["Doug Blackburn", "SungWon Chung", "Xiang Ma"]
    rows = list(
        csv.reader(io.StringIO(ok(data, "audit", COMMUNITY, "--csv", "--status", "not_yet_seen")))
    )
    assert rows[0][:3] == ["key", "name", "status"] and len(rows) == 4
    text = ok(data, "audit", COMMUNITY, "--since", "2020-01-01")
    assert "moved 13 (still posting to the old list: 8) + old only 3" in text
    # issue 13: the figures add up as printed (statuses sum to the people counted; the
    # old-list actives split into before the cutover and only from it on)
    s = js(data, "audit", COMMUNITY, "--since", "2020-01-01")["summary"]
    statuses = ("moved", "old_only", "not_yet_seen", "new_face", "returning")
    assert f"{s['persons']} people counted = moved" in text
    assert s["persons"] == sum(s[k] for k in statuses)
    assert s["active_since"] == s["moved"] + s["old_only"] + s["not_yet_seen"]
    assert s["active_since"] == s["active_before"] + s["active_only_after_cutover"]
    assert f"since 2020-01-01: {s['active_since']} (= moved + old only + not yet seen)" in text
    assert "25 to the old list after the cutover, 21 after the close" in text
    assert run(data, "audit", "nope").exit_code == 2
    assert run(data, "audit", COMMUNITY, "--since", "2021-13-01").exit_code == 2


def test_rosters(data: Path) -> None:
    ok(data, "communities", "add", COMMUNITY, "--lists", f"{OLD},{NEW}", "--old", OLD)
    first = js(
        data,
        "rosters",
        "import",
        OLD,
        str(ROSTERS / "usrp-old_list_members.txt"),
        "--as-of",
        "2021-03-01",
    )
    assert first == {
        "id": first["id"],
        "list": OLD,
        "as_of": "2021-03-01",
        "format": "mailman2",
        "members": 11,
        "unchanged": False,
        "added": 11,
        "removed": 0,
        "skipped": [],
        "warnings": [],
        "dry_run": False,
    }
    again = js(
        data,
        "rosters",
        "import",
        OLD,
        str(ROSTERS / "usrp-old_list_members.txt"),
        "--as-of",
        "2021-03-01",
    )
    assert again["unchanged"] and again["id"] == first["id"]
    csv_import = js(
        data,
        "rosters",
        "import",
        NEW,
        str(ROSTERS / "usrp-new-Subscribers.csv"),
        "--as-of",
        "2021-05-01",
    )
    assert (csv_import["format"], csv_import["members"]) == ("mailman3-csv", 10)
    out = ok(
        data,
        "rosters",
        "import",
        NEW,
        str(ROSTERS / "usrp-new-roster.json"),
        "--format",
        "mailman3-json",
        "--as-of",
        "2021-06-01",
    )
    assert "10 members (mailman3-json); 0 added, 0 removed" in out
    listing = js(data, "rosters")
    assert [(r["list"], r["as_of"], r["current"]) for r in listing] == [
        (NEW, "2021-06-01", True),
        (NEW, "2021-05-01", False),
        (OLD, "2021-03-01", True),
    ]
    assert set(listing[0]) == {
        "id",
        "list",
        "as_of",
        "members",
        "format",
        "source",
        "imported_at",
        "current",
    }
    report = js(data, "rosters", "report", OLD)
    assert report["summary"] == {
        "members": 11,
        "members_who_posted": 9,
        "members_never_posted": 2,
        "posters_not_members": 10,
    }
    assert set(report) == {
        "list",
        "roster",
        "since",
        "posts_since",
        "last_post",
        "summary",
        "members_never_posted",
        "posters_not_members",
    }
    both = js(data, "rosters", "report", "--community", COMMUNITY, "--since", "2020-01-01")
    assert both["summary"] == {"old_not_joined": 4}
    assert [part["list"] for part in both["lists"]] == [OLD, NEW]
    rows = list(
        csv.reader(io.StringIO(ok(data, "rosters", "report", "--community", COMMUNITY, "--csv")))
    )
    assert rows[0] == [
        "kind",
        "list",
        "address",
        "name",
        "person_key",
        "person_name",
        "posts",
        "last_post",
    ]
    assert [r[2] for r in rows if r[0] == "old_not_joined"] == [
        "demel@ant.uni-bremen.de",
        "dougb95@gmail.com",
        "kelvin.lok266@gmail.com",
        "reader@example.net",
    ]
    assert "have not joined" in ok(data, "rosters", "report", "--community", COMMUNITY)
    assert run(data, "rosters", "report").exit_code == 2  # LIST or --community
    assert run(data, "rosters", "report", "nope").exit_code == 2
    assert (
        run(data, "rosters", "import", "nope", str(ROSTERS / "usrp-new-roster.json")).exit_code == 2
    )
    bad = ROSTERS.parent / "nope.json"
    assert run(data, "rosters", "import", OLD, str(bad)).exit_code == 2  # no such file


def test_meetings_and_tags(data: Path, tmp_path: Path) -> None:
    ok(data, "communities", "add", COMMUNITY, "--lists", f"{OLD},{NEW}")
    result = js(
        data,
        "meetings",
        "import",
        "kick-off 2023",
        str(SEED_2023),
        "--date",
        "2023-05-02",
        "--tag",
        "volunteer: survey",
    )
    # none of the 2023 participants posted on usrp-users
    assert result == {
        "name": "kick-off 2023",
        "date": "2023-05-02",
        "participants": 25,
        "counts": {"none": 25},
    }
    people = tmp_path / "usrp-call.txt"
    people.write_text("List of participants: *Leech Marcus D, Kossler, Mary Uduma.*\n")
    out = ok(data, "meetings", "import", "usrp call", str(people), "--community", COMMUNITY)
    assert "3 participants (1 matched, 1 none, 1 suggested)" in out
    listing = js(data, "meetings")
    assert [m["name"] for m in listing] == ["kick-off 2023", "usrp call"]
    assert set(listing[0]) == {
        "name",
        "date",
        "community",
        "tag",
        "participants",
        "matched",
        "counts",
    }
    shown = js(data, "meetings", "show", "usrp call", "--days", "36500")
    assert shown["summary"] == {
        "participants": 3,
        "matched": 1,
        "active": 1,
        "by_match": {"matched": 1, "none": 1, "suggested": 1},
    }
    kossler = shown["participants"][1]
    assert (kossler["match"], kossler["person_key"]) == ("suggested", None)
    suggestion = kossler["suggestions"][0]
    assert (suggestion["name"], suggestion["reason"], suggestion["last_post"]) == (
        "Rob Kossler",
        "one word",
        "2021-05-28",
    )
    leech = shown["participants"][0]
    assert (leech["person_name"], leech["last_post"], leech["active"]) == (
        "Marcus D Leech",
        "2021-05-31",
        True,
    )
    # without --days: active in the 365 days up to the archive's newest post (2021-05-31),
    # not up to today, when this historical archive shows nobody active
    default = js(data, "meetings", "show", "usrp call")
    assert default["as_of"] == "2021-05-31" and default["summary"]["active"] == 1
    assert "? " + suggestion["key"] in ok(data, "meetings", "show", "usrp call")
    assert "confirmed as" in ok(
        data, "meetings", "confirm", "usrp call", "Kossler", suggestion["key"]
    )
    assert "unmatched" in ok(data, "meetings", "unmatch", "usrp call", "#1")
    assert run(data, "meetings", "confirm", "usrp call", "Nobody", suggestion["key"]).exit_code == 1
    assert run(data, "meetings", "show", "nope").exit_code == 2

    assert "tagged" in ok(data, "tags", "add", suggestion["key"], "volunteer: docs")
    tagged = js(data, "tags")
    assert [t["tag"] for t in tagged] == ["attended: usrp call", "volunteer: docs"]
    assert set(tagged[0]["persons"][0]) == {
        "key",
        "name",
        "source",
        "last_post",
        "recent_posts",
        "active",
    }
    assert "removed" in ok(data, "tags", "remove", suggestion["key"], "volunteer: docs")
    assert run(data, "tags", "add", "pnobody", "x").exit_code == 1
    events = js(data, "persons", "events")
    assert [e["action"] for e in events][:4] == ["untag", "tag", "meeting-unmatch", "meeting-match"]
    assert events[0]["actor"].startswith("cli")


@pytest.mark.parametrize("name", ["kick-off.json", "kick-off.csv", "x.mbox", "..", ".", "a/b"])
def test_meeting_import_refuses_names_that_break_its_url(
    data: Path, tmp_path: Path, name: str
) -> None:
    # /meetings/kick-off.json is the JSON of meeting "kick-off", /meetings/.. is /, ...
    people = tmp_path / "people.txt"
    people.write_text("Jane Doe\n")
    result = run(data, "meetings", "import", name, str(people))
    assert result.exit_code == 2, result.output
    assert "meeting's name" in result.output
    assert js(data, "meetings") == []


def test_roster_import_reports_invalid_addresses(data: Path, tmp_path: Path) -> None:
    roster = tmp_path / "list_members.txt"
    roster.write_text(
        "dave@example.org # note\nfrank@example.org, gina@example.org\n@example.org\n"
    )
    result = js(data, "rosters", "import", OLD, str(roster), "--format", "mailman2")
    assert (result["members"], result["skipped"]) == (3, ["@example.org"])
    assert result["warnings"] == [
        "line 2 holds 2 addresses; each is a member",
        "line 3: `@example.org` skipped: nothing before the @",
    ]
    err = run(data, "rosters", "import", OLD, str(roster), "--as-of", "2021-01-01").stderr
    assert "skipped (no valid address): @example.org" in err
