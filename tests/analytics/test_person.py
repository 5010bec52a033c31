"""person: one person's activity (tests/analytics/scenario.py)."""

from __future__ import annotations

from datetime import date

from analytics.facts import PersonTotal
from analytics.person import person_activity
from tests.analytics.scenario import person_id, scenario


def test_alice() -> None:
    frame = scenario()
    found = person_activity(frame, person_id(frame, "Alice"))
    assert (found.person, found.name, found.messages, found.threads) == ("k-alice", "Alice", 5, 3)
    assert (found.threads_started, found.replies_given, found.replies_received) == (2, 3, 1)
    assert found.self_replies == 0
    assert (found.first, found.last) == ("2020-01-06T10:00:00+00:00", "2020-09-01T10:00:00+00:00")
    assert [(p.period, p.messages, p.threads_started, p.replies_given) for p in found.periods] == [
        ("2020-01", 2, 1, 1),
        ("2020-02", 1, 0, 1),
        ("2020-03", 1, 0, 1),
        ("2020-04", 0, 0, 0),
        ("2020-05", 0, 0, 0),
        ("2020-06", 0, 0, 0),
        ("2020-07", 0, 0, 0),
        ("2020-08", 0, 0, 0),
        ("2020-09", 1, 1, 0),
    ]
    assert [(lst.list, lst.messages) for lst in found.lists] == [("alpha", 5)]
    # newest first; T1: 5 posts, 2 by others (Bob #2, Carol #9), first reply after 2 h
    assert [
        (t.thread, t.messages, t.replies, t.participants, t.first_reply_seconds)
        for t in found.started
    ] == [("T5", 1, 0, 1, None), ("T1", 5, 2, 3, 7200)]
    assert found.replied_to == (PersonTotal("k-bob", "Bob", 2), PersonTotal("k-carol", "Carol", 1))
    assert found.replied_by == (PersonTotal("k-bob", "Bob", 1),)


def test_bob_self_reply_and_cross_posted_carol() -> None:
    frame = scenario()
    bob = person_activity(frame, person_id(frame, "Bob"))
    assert (bob.replies_given, bob.replies_received, bob.self_replies) == (1, 3, 1)
    assert [(p.name, p.count) for p in bob.replied_by] == [("Alice", 2), ("Carol", 1)]
    carol = person_activity(frame, person_id(frame, "Carol"))
    # #4 is on alpha and beta: it counts on each list
    assert [(lst.list, lst.messages, lst.first, lst.last) for lst in carol.lists] == [
        ("alpha", 2, "2020-01-20T08:00:00+00:00", "2020-03-11T11:00:00+00:00"),
        ("beta", 1, "2020-01-20T08:00:00+00:00", "2020-01-20T08:00:00+00:00"),
    ]


def test_window_and_absent_person() -> None:
    frame = scenario(start=date(2020, 2, 1), end=date(2020, 2, 29))
    alice = person_activity(frame, person_id(frame, "Alice"))
    assert (alice.messages, alice.threads_started, alice.replies_given) == (1, 0, 1)
    assert alice.first_in_scope == "2020-01-06T10:00:00+00:00"
    dave = person_activity(frame, person_id(frame, "Dave"))
    assert (dave.messages, dave.periods, dave.first, dave.started) == (0, (), None, ())
