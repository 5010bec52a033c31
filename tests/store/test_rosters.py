"""Storing roster snapshots: idempotent re-imports, a newer snapshot replaces the current
roster, history is kept by `as_of`."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import rosters
from store.roster_formats import ParsedRoster, RosterMember
from store.store import Store


def _parsed(*addresses: str, name: str = "") -> ParsedRoster:
    return ParsedRoster("mailman2", tuple(RosterMember(a, name) for a in addresses))


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.db")
    s.add_list("forum-old", "mbox", paths=["x.mbox"])
    return s


def _current(store: Store) -> int:
    roster = rosters.current_roster(store.conn, "forum-old")
    assert roster is not None
    return roster.id


def test_snapshots_history_and_idempotence(store: Store) -> None:
    conn = store.conn
    first = rosters.import_roster(
        conn, "forum-old", _parsed("a@x.org", "b@x.org"), source="f1", as_of="2021-01-01"
    )
    assert (first.unchanged, first.added, first.removed) == (False, 2, 0)
    again = rosters.import_roster(
        conn, "forum-old", _parsed("a@x.org", "b@x.org"), source="f1", as_of="2021-01-01"
    )
    assert again.unchanged and again.roster.id == first.roster.id
    # without --as-of: unchanged when the current roster holds the same members
    assert rosters.import_roster(
        conn, "forum-old", _parsed("b@x.org", "a@x.org"), source="f1"
    ).unchanged
    newer = rosters.import_roster(
        conn, "forum-old", _parsed("a@x.org", "c@x.org"), source="f2", as_of="2021-06-01"
    )
    assert (newer.unchanged, newer.added, newer.removed) == (False, 1, 1)
    current = rosters.current_roster(conn, "forum-old")
    assert current is not None and current.id == newer.roster.id and current.members == 2
    # an older export imported later is history, not the current roster
    older = rosters.import_roster(
        conn, "forum-old", _parsed("z@x.org"), source="f0", as_of="2020-01-01"
    )
    assert _current(store) == newer.roster.id
    assert [(r.as_of, r.current) for r in rosters.all_rosters(conn)] == [
        ("2021-06-01", True),
        ("2021-01-01", False),
        ("2020-01-01", False),
    ]
    assert [m.address for m in rosters.members(conn, older.roster.id)] == ["z@x.org"]
    # the same addresses with names are another snapshot
    named = rosters.import_roster(
        conn, "forum-old", _parsed("a@x.org", "c@x.org", name="A"), source="f3", as_of="2021-06-01"
    )
    assert not named.unchanged and _current(store) == named.roster.id


def test_errors(store: Store) -> None:
    with pytest.raises(rosters.RosterError, match="unknown list"):
        rosters.import_roster(store.conn, "nope", _parsed("a@x.org"), source="f")
    with pytest.raises(rosters.RosterError, match="YYYY-MM-DD"):
        rosters.import_roster(store.conn, "forum-old", _parsed("a@x.org"), source="f", as_of="June")
    assert rosters.current_roster(store.conn, "forum-old") is None


def test_the_import_log_line_has_the_right_plural(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="store.rosters"):
        rosters.import_roster(store.conn, "forum-old", _parsed("a@x.org"), source="f1")
        rosters.import_roster(store.conn, "forum-old", _parsed("a@x.org", "b@x.org"), source="f2")
    lines = [r.getMessage() for r in caplog.records if r.name == "store.rosters"]
    assert lines[0].endswith(": 1 member (1 added, 0 removed)"), lines
    assert lines[1].endswith(": 2 members (1 added, 0 removed)"), lines
