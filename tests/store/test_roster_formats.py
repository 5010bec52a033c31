"""Roster parsers on files in the formats Mailman writes (tests/data/rosters/README.md: no real
roster export exists in the corpus, so the fixtures carry real usrp-users posters' addresses in
hand-written exports of the real formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from store.roster_formats import (
    MAILMAN2,
    MAILMAN3_CSV,
    MAILMAN3_JSON,
    RosterFormatError,
    RosterMember,
    detect_format,
    parse_roster,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "rosters"
OLD_ADDRESSES = [
    "bpadalino@gmail.com",
    "demel@ant.uni-bremen.de",
    "dougb95@gmail.com",
    "e070832@hotmail.com",
    "kelvin.lok266@gmail.com",
    "marcus.mueller@ettus.com",
    "patchvonbraun@gmail.com",
    "rkossler@nd.edu",
    "lurker@example.org",  # digest members come after the regular ones
    "reader@example.net",
    "wade.fife@ettus.com",
]


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_mailman2_list_members() -> None:
    parsed = parse_roster(_read("usrp-old_list_members.txt"))
    assert parsed.format == MAILMAN2
    assert [m.address for m in parsed.members] == OLD_ADDRESSES
    assert all(m.name == "" for m in parsed.members) and parsed.skipped == ()


def test_mailman2_fullnames() -> None:
    parsed = parse_roster(_read("usrp-old_list_members-f.txt"))
    assert [m.address for m in parsed.members] == OLD_ADDRESSES
    names = {m.address: m.name for m in parsed.members}
    assert names["reader@example.net"] == "Reader, A."  # quoted because of the comma
    assert names["marcus.mueller@ettus.com"] == "Marcus M?ller"  # Python 2 safe(): ASCII only
    assert names["lurker@example.org"] == ""


def test_mailman3_members_command_output() -> None:
    text = (
        "Anne Person <anne@example.com>\n"
        "=?utf-8?q?C=C3=A9dric_Hannotier?= <Cedric.Hannotier@ULB.be>\n"
        "bart@example.com\n\n# a comment\nnot an address\n"
    )
    parsed = parse_roster(text)
    assert parsed.members == (
        RosterMember("anne@example.com", "Anne Person"),
        RosterMember("cedric.hannotier@ulb.be", "Cédric Hannotier"),
        RosterMember("bart@example.com", ""),
    )
    assert parsed.skipped == ("not an address",)
    assert parse_roster("ant.example.com has no members\n").members == ()


def test_postorius_csv_export() -> None:
    parsed = parse_roster(_read("usrp-new-Subscribers.csv"), "mailman3-csv")
    assert parsed.format == MAILMAN3_CSV
    assert len(parsed.members) == 10 and parsed.members[0] == RosterMember("bpadalino@gmail.com")
    # `auto` picks CSV from the file name (the one-column file is also one address a line)
    assert detect_format(_read("usrp-new-Subscribers.csv"), "Subscribers.csv") == MAILMAN3_CSV
    assert detect_format(_read("usrp-new-Subscribers.csv")) == MAILMAN2


def test_csv_with_a_header_and_names() -> None:
    text = (
        'display_name,email\n"Leech, Marcus",PatchVonBraun@gmail.com\n'
        "Wade Fife,wade.fife@ettus.com\n,\n"
    )
    parsed = parse_roster(text)
    assert parsed.format == MAILMAN3_CSV
    assert parsed.members == (
        RosterMember("patchvonbraun@gmail.com", "Leech, Marcus"),
        RosterMember("wade.fife@ettus.com", "Wade Fife"),
    )
    with pytest.raises(RosterFormatError, match="email column"):
        parse_roster("name,phone\nx,1\n", "mailman3-csv")


def test_rest_roster_json() -> None:
    parsed = parse_roster(_read("usrp-new-roster.json"))
    assert parsed.format == MAILMAN3_JSON
    assert len(parsed.members) == 10 and parsed.warnings == ()
    names = {m.address: m.name for m in parsed.members}
    assert names["cedric.hannotier@ulb.be"] == "Cédric Hannotier"
    assert names["e070832@hotmail.com"] == ""


def test_rest_members_json_of_several_lists() -> None:
    data = json.loads(_read("usrp-new-roster.json"))
    owner = dict(data["entries"][0], role="owner", email="owner@ettus.com")
    other = dict(data["entries"][1], list_id="other.lists.ettus.com", email="x@example.org")
    data["entries"] += [owner, other]
    data["total_size"] = 40
    text = json.dumps(data)
    with pytest.raises(RosterFormatError, match="several lists"):
        parse_roster(text)
    parsed = parse_roster(text, list_id="usrp-users.lists.ettus.com")
    assert len(parsed.members) == 10  # the owner and the other list's member are left out
    assert any("12 of 40" in w for w in parsed.warnings)  # a page of a paged answer
    assert any("not members" in w for w in parsed.warnings)


def test_bad_input() -> None:
    with pytest.raises(RosterFormatError, match="not JSON"):
        parse_roster("{nope", "mailman3-json")
    with pytest.raises(RosterFormatError, match="unknown roster format"):
        parse_roster("a@b.c", "sympa")
    # a byte-order mark and an address without a name
    assert parse_roster("\ufeffA@B.example\n").members == (RosterMember("a@b.example"),)


def test_mailman2_comments_several_addresses_and_invalid_entries() -> None:
    text = (
        "dave@example.org # note\n"
        '"Team #1" <team@example.org>\n'  # a `#` inside a quoted name is no comment
        "frank@example.org, Gina Roe <gina@example.org>\n"
        "Doe, Jane <jane@example.org>\n"  # an unquoted name with a comma: one address
        "@example.org\n"
        "x@localhost\n"
        "y@example..org\n"
        "a@example.org b@example.org\n"
        "c@ex ample.org\n"
        "list@example.org has no members\n"
    )
    parsed = parse_roster(text)
    assert parsed.format == MAILMAN2
    assert parsed.members == (
        RosterMember("dave@example.org"),
        RosterMember("team@example.org", "Team #1"),
        RosterMember("frank@example.org"),
        RosterMember("gina@example.org", "Gina Roe"),
        RosterMember("jane@example.org", "Doe, Jane"),
    )
    assert parsed.skipped == (
        "@example.org",
        "x@localhost",
        "y@example..org",
        "a@example.org b@example.org",
        "c@ex ample.org",
    )
    assert parsed.warnings == (
        "line 3 holds 2 addresses; each is a member",
        "line 5: `@example.org` skipped: nothing before the @",
        "line 6: `x@localhost` skipped: the domain 'localhost' has no dot",
        "line 7: `y@example..org` skipped: the domain 'example..org' is not a domain name",
        "line 8: `a@example.org b@example.org` skipped: "
        "cannot read it as addresses separated by commas",
        "line 9: `c@ex ample.org` skipped: cannot read it as addresses separated by commas",
    )
    # a first line with a comment holding a comma is still one address a line
    assert detect_format("dave@example.org # note, old\nbob@example.org\n") == MAILMAN2


def test_csv_invalid_addresses_and_second_addresses() -> None:
    # without a header a second address is a member, never the first one's name
    parsed = parse_roster(
        "frank@example.org,gina@example.org\nkim@example.org,Kim Lee,@example.org\nlee@nodot,Lee\n",
        "mailman3-csv",
    )
    assert parsed.members == (
        RosterMember("frank@example.org"),
        RosterMember("gina@example.org"),
        RosterMember("kim@example.org", "Kim Lee"),
    )
    assert parsed.skipped == ("@example.org", "lee@nodot")
    assert parsed.warnings == (
        "row 2: `@example.org` skipped: nothing before the @",
        "row 3: `lee@nodot` skipped: the domain 'nodot' has no dot",
    )
    with_header = parse_roster("email,name\n@example.org,Nobody\nok@example.org,Ok\n")
    assert with_header.members == (RosterMember("ok@example.org", "Ok"),)
    assert with_header.skipped == ("@example.org",)


def test_json_invalid_entries() -> None:
    entries = [
        {"email": "@example.org", "role": "member"},
        {"email": "ok@example.org", "display_name": "Ok", "role": "member"},
        "not an object",
        {"address": "http://localhost:9001/3.1/addresses/bad@localhost", "role": "member"},
    ]
    parsed = parse_roster(json.dumps({"entries": entries, "total_size": 4}))
    assert parsed.members == (RosterMember("ok@example.org", "Ok"),)
    assert len(parsed.skipped) == 3
    assert parsed.warnings == (
        'entry 3: `"not an object"` skipped: not an object',
        'entry 1: `{"email": "@example.org", "role": "member"}` skipped: nothing before the @',
        'entry 4: `{"address": "http://localhost:9001/3.1/addresses/bad@localhost", '
        '"role": "member"}` skipped: the domain \'localhost\' has no dot',
    )
