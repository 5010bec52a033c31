"""The migration audit on real data: usrp-users' Mailman 2.1 era (46 messages, old list) and
Mailman 3.3 era (673 messages, new list), split from the corpus slice by `X-Mailman-Version`.

How every number below was checked by hand, independently of listarchive: the senders and
dates of the 719 messages were read with

    zcat ../shared/corpus/hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz \\
      | grep -a -E '^(From|Reply-To|Date|X-Mailman-Version):'

The old era's From is the list address ("Jane via USRP-users" DMARC munging), so its sender
is the Reply-To address; the new era's From is the sender.  Dates were converted to UTC.  The
old era (2021-03-02 .. 2021-03-10 23:26 UTC) has 19 distinct senders; the new era (from
2021-03-12 09:04 UTC, Maria Muñoz's reply) 115; 13 addresses are in both, so 6 old senders never
wrote to the new list and 102 new senders never wrote to the old one (19 + 102 = 121 persons,
the count tests/store/test_identities.py checks).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from analytics import migration
from analytics.migration import AuditError, audit
from tests.support.usrp_migration import COMMUNITY, NEW, OLD, invoke, usrp_data_dir

MOVED = {
    # name: first post on the new list (UTC day of the first From/Reply-To match in the 3.3.3 era)
    "Brian Padalino": "2021-03-30",
    "COURANT Frederique - Contractor": "2021-03-12",
    "Jeff S": "2021-03-22",
    "Jonathon Pendlum": "2021-03-16",
    "Julian Arnold": "2021-03-22",
    "Marcus D Leech": "2021-03-12",
    "Marcus Müller": "2021-03-18",
    "Maria Muñoz": "2021-03-12",
    "Oliver Towlson": "2021-03-12",
    "Rob Kossler": "2021-03-12",
    "Snehasish Kar": "2021-04-05",
    "Sourin Mondal (Vehere)": "2021-03-16",
    "Wade Fife": "2021-03-16",
}
NOT_SEEN = {
    "Doug Blackburn",  # dougb95@gmail.com, last 2021-03-10
    "Johannes Demel",  # demel@ant.uni-bremen.de, 2021-03-04
    "Kelvin Lok",  # kelvin.lok266@gmail.com, 2021-03-03
    "Mehlhose, Matthias",  # matthias.mehlhose@hhi.fraunhofer.de, 2021-03-02
    "SungWon Chung",  # lucky.cimon@gmail.com, 2021-03-10
    "Xiang Ma",  # marxwolfs@gmail.com, 2021-03-08
}


@pytest.fixture()
def usrp(corpus: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return usrp_data_dir(corpus, tmp_path_factory, tmp_path / "data")


def _community(data: Path, *extra: str) -> sqlite3.Connection:
    invoke(data, "communities", "add", COMMUNITY, "--lists", f"{OLD},{NEW}", *extra)
    return sqlite3.connect(data / "store.db", isolation_level=None)


def _by_status(result: migration.Audit) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for p in result.persons:
        found.setdefault(p["status"], set()).add(p["name"])
    return found


def _row(result: migration.Audit, name: str) -> dict[str, Any]:
    return next(p for p in result.persons if p["name"] == name)


def test_cutover_on_the_first_mailman3_day(usrp: Path) -> None:
    # cutover = the day of the first 3.3.3 message (2021-03-12 09:04:37 UTC); the old list's
    # last message is 2021-03-10 23:26:53 UTC, so nobody wrote to the old list after it
    conn = _community(usrp, "--old", OLD, "--new", NEW, "--cutover", "2021-03-12")
    result = audit(conn, COMMUNITY)
    assert result.summary == {
        "moved": 13,
        "old_only": 0,
        "not_yet_seen": 6,
        "new_face": 102,
        "returning": 0,
        "persons": 121,
        "active_before": 19,
        "active_since": 19,
        "active_only_after_cutover": 0,
        "on_new_list": 115,
        "moved_still_on_old": 0,
        "old_after_cutover_messages": 0,
        "old_after_close_messages": 0,
        "cross_posted_messages": 0,
        "both_lists_before_cutover": 0,
        "continued_threads": 2,
    }
    statuses = _by_status(result)
    assert statuses["moved"] == set(MOVED)
    assert statuses["not_yet_seen"] == NOT_SEEN
    assert {p["name"]: p["first_new"] for p in result.persons if p["status"] == "moved"} == MOVED
    # Marcus D Leech: 9 old-era posts (Reply-To patchvonbraun@gmail.com, 2021-03-03 .. 03-10)
    leech = _row(result, "Marcus D Leech")
    assert (leech["old_posts_in_window"], leech["active_before"]) == (9, True)
    assert _row(result, "Doug Blackburn")["last_post"] == "2021-03-10"
    # two old threads go on in the new list: "Enable AGC in USRP E320 ..." (Maria Muñoz's
    # 2021-03-12 reply has In-Reply-To an old-era Message-ID) and "X310 with dual TwinRX set
    # up" (Oliver Towlson's 2021-03-12 13:54 "Re:" carries no reference: the same subject
    # within 60 days joins the thread, the store's threading rule)
    threads = {t["subject"]: t for t in result.threads}
    assert set(threads) == {
        "Enable AGC in USRP E320 with RFNoC using GNURadio",
        "X310 with dual TwinRX set up",
    }
    x310 = threads["X310 with dual TwinRX set up"]
    assert (x310["started"], x310["first_on_new"]) == (
        "2021-03-10T18:09:37+00:00",
        "2021-03-12T13:54:55+00:00",
    )
    # 3 old posts (Oliver, Rob, Marcus, 2021-03-10) and 6 new ones (03-12 .. 03-19)
    assert (x310["old_posts"], x310["new_posts"]) == (3, 6)
    header, rows = result.person_table("not_yet_seen")
    assert header[:3] == ["key", "name", "status"] and len(rows) == 6


def test_old_new_and_cutover_inferred(usrp: Path) -> None:
    conn = _community(usrp)  # no --old/--new, no --cutover
    result = audit(conn, COMMUNITY).as_dict()
    assert (result["old_list"], result["new_list"], result["old_new_inferred"]) == (OLD, NEW, True)
    assert (result["cutover"], result["cutover_inferred"]) == ("2021-03-12", True)
    assert result["since"] == "2020-03-12" and result["window_days"] == 365
    assert result["summary"]["moved"] == 13


def test_earlier_cutover_and_a_close_date(usrp: Path) -> None:
    # cutover 2021-03-08, closed 2021-03-10 (chosen so both lists below are non-empty).
    # Old-era posts dated 2021-03-08 00:00 UTC or later: 25 (the 22nd to the 46th message);
    # from 2021-03-10 00:00 UTC: 21 (Brian Padalino's 2021-03-09 23:51 -0500 is 03-10 04:51).
    conn = _community(
        usrp, "--old", OLD, "--new", NEW, "--cutover", "2021-03-08", "--closed", "2021-03-10"
    )
    result = audit(conn, COMMUNITY)
    s = result.summary
    assert (s["moved"], s["old_only"], s["not_yet_seen"], s["new_face"]) == (13, 3, 3, 102)
    # senders before 2021-03-08 (2021-03-02 .. 03-06): 12 distinct addresses
    assert s["active_before"] == 12
    assert (s["old_after_cutover_messages"], s["old_after_close_messages"]) == (25, 21)
    # Jeff S, Marcus D Leech, Maria Muñoz, Rob Kossler, Brian Padalino, Sourin Mondal, Julian
    # Arnold and Oliver Towlson wrote to the old list from 03-08 and later to the new one
    assert s["moved_still_on_old"] == 8
    statuses = _by_status(result)
    # wrote to the old list after the cutover, never to the new one
    assert statuses["old_only"] == {"Doug Blackburn", "SungWon Chung", "Xiang Ma"}
    assert statuses["not_yet_seen"] == {"Johannes Demel", "Kelvin Lok", "Mehlhose, Matthias"}
    doug = _row(result, "Doug Blackburn")
    # five posts, 2021-03-10 03:03 .. 21:38 UTC (Tue 9 Mar 22:03 -0500 is already the 10th)
    assert (doug["old_after_cutover"], doug["last_old_after_cutover"]) == (5, "2021-03-10")
    jeff = _row(result, "Jeff S")
    assert (jeff["old_after_cutover"], jeff["last_old_after_cutover"]) == (1, "2021-03-08")
    first = result.messages["old_after_cutover"][0]
    assert first["date"] == "2021-03-08T14:11:54+00:00" and first["person_name"] == "Jeff S"
    assert first["subject"] == "Re: [USRP-users] Current Recommended UHD RFNoC Versions?"
    assert result.messages["old_after_close"][0]["date"] >= "2021-03-10"


def test_window_start(usrp: Path) -> None:
    # --since 2021-03-05: people whose old-era posts are all before it drop out, unless they
    # wrote to the new list: then they are `returning` (Frederique Courant, 2021-03-04; Wade
    # Fife, 2021-03-04 17:27 UTC); Mehlhose, Lok and Demel (03-02 .. 03-04) are not counted
    conn = _community(usrp, "--old", OLD, "--new", NEW, "--cutover", "2021-03-12")
    result = audit(conn, COMMUNITY, since=date(2021, 3, 5))
    s = result.summary
    assert (s["moved"], s["not_yet_seen"], s["returning"], s["new_face"]) == (11, 3, 2, 102)
    assert (s["active_before"], s["persons"]) == (14, 118)
    assert _by_status(result)["returning"] == {"COURANT Frederique - Contractor", "Wade Fife"}


def test_a_merged_address_counts_as_moved(usrp: Path) -> None:
    # Kelvin Lok wrote only to the old list (2021-03-03).  Merging another person into him
    # (here Jerrid Plymale, a new face whose first post is 2021-03-12 20:02 UTC: a synthetic
    # merge, standing for "the same person, subscribed with another address") makes him moved
    conn = _community(usrp, "--old", OLD, "--new", NEW, "--cutover", "2021-03-12")
    keys = {str(n): str(k) for k, n in conn.execute("SELECT key, name FROM persons")}
    invoke(usrp, "persons", "merge", keys["Kelvin Lok"], keys["Jerrid Plymale"])
    result = audit(conn, COMMUNITY)
    s = result.summary
    assert (s["moved"], s["not_yet_seen"], s["new_face"]) == (14, 5, 101)
    kelvin = next(p for p in result.persons if p["key"] == keys["Kelvin Lok"])
    assert (kelvin["status"], kelvin["first_new"]) == ("moved", "2021-03-12")


@pytest.fixture()
def imported(corpus: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return usrp_data_dir(corpus, tmp_path_factory, tmp_path / "data", "imported")


def test_new_archive_holding_the_imported_old_one(imported: Path) -> None:
    # the new list holds all 719 messages (the 46 old-era ones imported): before the cutover a
    # message on both lists is old-list history, so the statuses are those of the split lists
    conn = _community(imported, "--old", OLD, "--new", NEW, "--cutover", "2021-03-12")
    result = audit(conn, COMMUNITY)
    s = result.summary
    assert (s["moved"], s["not_yet_seen"], s["new_face"]) == (13, 6, 102)
    assert (s["both_lists_before_cutover"], s["cross_posted_messages"]) == (46, 0)
    # from an earlier cutover (2021-03-08) the 25 later old-era posts are on both lists:
    # cross-posted, and they count for the new list, so nobody is "old only" any more
    conn.close()
    conn = _community(imported, "--old", OLD, "--new", NEW, "--cutover", "2021-03-08")
    result = audit(conn, COMMUNITY)
    s = result.summary
    assert (s["cross_posted_messages"], s["both_lists_before_cutover"]) == (25, 21)
    assert (s["moved"], s["old_only"], s["not_yet_seen"]) == (16, 0, 3)
    assert _row(result, "Doug Blackburn")["first_new"] == "2021-03-10"


def test_errors(usrp: Path) -> None:
    conn = sqlite3.connect(usrp / "store.db", isolation_level=None)
    with pytest.raises(AuditError, match="unknown community"):
        audit(conn, "nope")
    invoke(usrp, "communities", "add", "solo", "--lists", OLD)
    with pytest.raises(AuditError, match="which list is old"):
        audit(conn, "solo")
    _community(usrp, "--cutover", "2021-03-12").close()
    with pytest.raises(AuditError, match="after the cutover"):
        audit(conn, COMMUNITY, since=date(2021, 4, 1))


def test_status_rules_are_exclusive() -> None:
    acc = migration._Acc
    assert migration.status_of(acc()) is None
    assert migration.status_of(acc(old_ever=1)) is None  # only before the window
    assert migration.status_of(acc(old_ever=1, old_since=1)) == "not_yet_seen"
    assert migration.status_of(acc(old_ever=2, old_since=2, old_after=1)) == "old_only"
    assert migration.status_of(acc(old_ever=1, old_since=1, new_posts=1)) == "moved"
    assert migration.status_of(acc(new_posts=1)) == "new_face"
    assert migration.status_of(acc(old_ever=1, new_posts=1)) == "returning"
