"""The roster reports counted in SQL (`analytics.rosters._list_posts`: issue 14, task DB4) equal
the pass over the list's frame they replaced (tests/analytics/legacy/rosters.py, the code of
3917c4e): on usrp-users' real mail with its rosters, and on random variants of that store full
of ties (posts at the window's first second, names equal but for case, persons with as many
posts), with undated and unthreaded posts, removals, bots, moved identities and random rosters
of posters' and unknown addresses."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from analytics import frame
from analytics import rosters as reports
from store import bots, removals, rosters
from store.roster_formats import ParsedRoster, RosterMember
from tests.analytics.legacy import rosters as old
from tests.analytics.test_rosters import conn as conn  # noqa: F401  (the fixture)
from tests.support.usrp_migration import COMMUNITY, NEW, OLD

SINCES = (None, date(2021, 3, 1), date(2021, 3, 15), date(2021, 4, 2), date(2031, 1, 1))


def _both(conn: sqlite3.Connection, list_name: str, since: date | None) -> None:
    frame.clear_cache()  # the rows were changed behind the change sequence's back
    assert reports.list_report(conn, list_name, since=since) == old.list_report(
        conn, list_name, since=since
    )


def test_real_mail_reports_equal_the_frame_pass(conn: sqlite3.Connection) -> None:
    for list_name in (OLD, NEW):
        for since in SINCES:
            _both(conn, list_name, since)
    report = reports.community_report(conn, COMMUNITY)
    frame.clear_cache()
    assert report["lists"] == [old.list_report(conn, OLD), old.list_report(conn, NEW)]
    assert report["lists"][1]["summary"]["posters_not_members"] == 106


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _scramble(conn: sqlite3.Connection, rng: random.Random) -> None:
    """Undated, unthreaded and boundary posts, identities moved between persons, names that
    differ by case only, removals, bots and a random roster on each list."""
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM messages ORDER BY id")]
    persons = [int(r[0]) for r in conn.execute("SELECT id FROM persons ORDER BY id")]
    bounds = [_midnight(s) for s in SINCES if s is not None]
    for mid in rng.sample(ids, len(ids) // 3):
        change = rng.random()
        if change < 0.1:
            conn.execute("UPDATE messages SET date = NULL WHERE id = ?", (mid,))
        elif change < 0.2:
            conn.execute("UPDATE messages SET thread_id = NULL WHERE id = ?", (mid,))
        elif change < 0.3:
            conn.execute("UPDATE messages SET identity = NULL WHERE id = ?", (mid,))
        else:  # at a window's first second, or the one before it
            edge = rng.choice(bounds) - rng.choice((0, 0, 1))
            conn.execute("UPDATE messages SET date = ? WHERE id = ?", (edge, mid))
    # a few persons take over others' addresses (as a merge does)
    for identity in rng.sample([int(r[0]) for r in conn.execute("SELECT id FROM identities")], 40):
        conn.execute(
            "UPDATE identities SET person = ? WHERE id = ?", (rng.choice(persons[:12]), identity)
        )
    for person in rng.sample(persons, 30):
        conn.execute(
            "UPDATE persons SET name = ? WHERE id = ?",
            (rng.choice(("Ann", "ann", "ANN", "Bob", "")), person),
        )
    keys = [str(r[0]) for r in conn.execute("SELECT key FROM persons ORDER BY id")]
    for key in rng.sample(keys, 3):
        bots.mark(conn, key, "test")
    gone = [str(r[0]) for r in conn.execute("SELECT key FROM messages ORDER BY id")]
    removals.remove(conn, "message", "random", rng.sample(gone, 25), reason="test", actor="test")
    addresses = [
        str(r[0]) for r in conn.execute("SELECT value FROM identities WHERE kind = 'address'")
    ]
    for list_name, as_of in ((OLD, "2021-03-20"), (NEW, "2021-05-01")):
        chosen = rng.sample(addresses, rng.randint(0, 40))
        chosen += [f"nobody{i}@example.org" for i in range(rng.randint(0, 3))]
        members = tuple(RosterMember(a, rng.choice(("", "A Name"))) for a in chosen)
        parsed = ParsedRoster("mailman2", members, empty_export=not members)
        rosters.import_roster(conn, list_name, parsed, source="random.txt", as_of=as_of)


@pytest.mark.parametrize("seed", range(12))
def test_random_stores_equal_the_frame_pass(conn: sqlite3.Connection, seed: int) -> None:
    rng = random.Random(seed)
    _scramble(conn, rng)
    for list_name in (OLD, NEW):
        for since in SINCES:
            _both(conn, list_name, since)
    outsiders = old.list_report(conn, NEW, since=SINCES[1])["posters_not_members"]
    counts = [p["posts"] for p in outsiders]
    assert len(counts) > len(set(counts))  # ties on posts: the names and keys decide


def test_the_window_starts_at_its_first_second(conn: sqlite3.Connection) -> None:
    """A post at the window's first second is in it, the one a second earlier is not."""
    start = _midnight(date(2021, 4, 2))
    row = conn.execute(
        "SELECT m.id, m.id + 1 FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE l.name = ? ORDER BY m.id LIMIT 1",
        (NEW,),
    ).fetchone()
    conn.execute("UPDATE messages SET date = ? WHERE id = ?", (start, row[0]))
    before = reports.list_report(conn, NEW, since=date(2021, 4, 2))["posts_since"]
    conn.execute("UPDATE messages SET date = ? WHERE id = ?", (start - 1, row[0]))
    assert reports.list_report(conn, NEW, since=date(2021, 4, 2))["posts_since"] == before - 1
    _both(conn, NEW, date(2021, 4, 2))


def test_a_bot_s_posts_are_left_out(conn: sqlite3.Connection, tmp_path: Path) -> None:
    report = reports.list_report(conn, NEW)
    top = report["posters_not_members"][0]
    bots.mark(conn, top["person_key"], "test")
    marked = reports.list_report(conn, NEW)
    assert top["person_key"] not in {p["person_key"] for p in marked["posters_not_members"]}
    assert marked["posts_since"] == report["posts_since"] - top["posts"]
    _both(conn, NEW, None)
