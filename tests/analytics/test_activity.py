"""activity: per-period series, totals, top posters and threads, weekdays, hours, busiest days
(exact numbers on the scenario of tests/analytics/scenario.py)."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date

import pytest

from analytics import activity
from tests.analytics.framekit import build
from tests.analytics.scenario import scenario

FEB_MAR = (date(2020, 2, 1), date(2020, 3, 31))


def test_monthly_series_fills_empty_months() -> None:
    rows = activity.series(scenario())
    assert [r.period for r in rows] == [f"2020-{m:02d}" for m in range(1, 10)]
    # (messages, threads started, threads active, participants, newcomers)
    table = {
        r.period: (r.messages, r.threads_started, r.threads_active, r.participants, r.newcomers)
        for r in rows
    }
    assert table["2020-01"] == (4, 2, 2, 3, 3)  # posts 1-4; T1, T2; Alice, Bob, Carol
    assert table["2020-02"] == (3, 1, 1, 2, 0)  # posts 5-7 in T3
    assert table["2020-03"] == (3, 1, 2, 3, 1)  # T4 started; T1 active again; Dave is new
    assert table["2020-05"] == (0, 0, 0, 0, 0)
    assert table["2020-09"] == (1, 1, 1, 1, 0)
    assert rows[0].start == "2020-01-01"


def test_quarter_and_year_series() -> None:
    quarters = activity.series(scenario(), "quarter")
    assert [(r.period, r.start, r.messages, r.participants) for r in quarters] == [
        ("2020-Q1", "2020-01-01", 10, 4),
        ("2020-Q2", "2020-04-01", 0, 0),
        ("2020-Q3", "2020-07-01", 1, 1),
    ]
    assert [
        (r.period, r.messages, r.threads_started) for r in activity.series(scenario(), "year")
    ] == [("2020", 11, 5)]
    with pytest.raises(ValueError):
        activity.series(scenario(), "week")


def test_series_is_clipped_to_the_window_and_to_the_archive() -> None:
    rows = activity.series(scenario(*FEB_MAR))
    assert [
        (r.period, r.messages, r.threads_started, r.threads_active, r.newcomers) for r in rows
    ] == [
        ("2020-02", 3, 1, 1, 0),
        ("2020-03", 3, 1, 2, 1),
    ]
    # a window reaching far past the last post adds no empty months
    late = activity.series(scenario(start=date(2020, 8, 15), end=date(2030, 1, 1)))
    assert [r.period for r in late] == ["2020-08", "2020-09"]
    assert activity.series(scenario(start=date(2021, 1, 1))) == []


def test_totals_whole_scope_and_window() -> None:
    whole = activity.totals(scenario(undated=2))
    assert (whole.messages, whole.threads_started, whole.threads_active) == (11, 5, 5)
    assert (whole.participants, whole.newcomers, whole.undated) == (4, 4, 2)
    assert whole.first == "2020-01-06T10:00:00+00:00"
    assert whole.last == "2020-09-01T10:00:00+00:00"
    window = activity.totals(scenario(*FEB_MAR))
    # posts 5-10: T3 and T4 start inside, T1 only continues; Dave is the only newcomer
    assert astuple(window)[:5] == (6, 2, 3, 4, 1)


def test_top_posters() -> None:
    top = activity.top_posters(scenario())
    assert [(p.name, p.messages, p.threads_started, p.threads, p.newcomer) for p in top] == [
        ("Alice", 5, 2, 3, True),
        ("Bob", 3, 1, 2, True),
        ("Carol", 2, 1, 2, True),
        ("Dave", 1, 1, 1, True),
    ]
    assert top[0].person == "k-alice"
    assert top[0].first == "2020-01-06T10:00:00+00:00"
    window = activity.top_posters(scenario(*FEB_MAR), limit=2)
    # Alice 2 (posts 7, 10), Bob 2 (5, 6): tie broken by name; neither is new in the window
    assert [(p.name, p.messages, p.newcomer) for p in window] == [
        ("Alice", 2, False),
        ("Bob", 2, False),
    ]


def test_top_threads_by_replies_and_participants() -> None:
    by_replies = activity.top_threads(scenario(), "replies")
    assert [(t.thread, t.messages, t.replies, t.participants) for t in by_replies] == [
        ("T1", 5, 4, 3),
        ("T3", 3, 2, 2),
        ("T2", 1, 0, 1),  # ties: the earlier start first
        ("T4", 1, 0, 1),
        ("T5", 1, 0, 1),
    ]
    assert by_replies[0].subject == "About T1"
    assert by_replies[0].started == "2020-01-06T10:00:00+00:00"
    assert by_replies[0].last == "2020-03-12T11:00:00+00:00"
    window = activity.top_threads(scenario(*FEB_MAR), "participants", limit=2)
    # inside Feb-Mar T1 has posts 9 and 10, both replies (its first post is in January); T3
    # has 3 posts, 2 replies: both 2 replies and 2 participants, T1 started earlier
    assert [(t.thread, t.messages, t.replies, t.participants) for t in window] == [
        ("T1", 2, 2, 2),
        ("T3", 3, 2, 2),
    ]
    with pytest.raises(ValueError):
        activity.top_threads(scenario(), "length")


def test_weekdays_hours_and_busiest_days_are_utc() -> None:
    days = {d.name: d.messages for d in activity.weekdays(scenario())}
    assert days == {
        "Monday": 4,
        "Tuesday": 4,
        "Wednesday": 2,
        "Thursday": 1,
        "Friday": 0,
        "Saturday": 0,
        "Sunday": 0,
    }
    hours = [h.messages for h in activity.hours(scenario())]
    assert len(hours) == 24 and sum(hours) == 11
    assert (hours[3], hours[8], hours[9], hours[10], hours[11], hours[12], hours[15]) == (
        1,
        1,
        1,
        2,
        3,
        1,
        2,
    )
    busiest = activity.busiest_days(scenario(), limit=3)
    assert [(d.day, d.messages, d.threads, d.participants) for d in busiest] == [
        ("2020-01-06", 2, 1, 2),
        ("2020-01-07", 1, 1, 1),
        ("2020-01-20", 1, 1, 1),
    ]


def test_posts_before_1970_and_late_at_night() -> None:
    frame = build([("1969-12-31T23:30", "T", "Old", None), ("1970-01-01T00:10", "T", "New", 1)])
    assert [d.messages for d in activity.weekdays(frame)][2:4] == [1, 1]  # Wednesday, Thursday
    assert activity.hours(frame)[23].messages == 1 and activity.hours(frame)[0].messages == 1
    assert [r.period for r in activity.series(frame)] == ["1969-12", "1970-01"]


def test_empty_frame() -> None:
    frame = build([])
    assert activity.series(frame) == []
    assert activity.totals(frame).messages == 0 and activity.totals(frame).first is None
    assert activity.top_posters(frame) == [] and activity.top_threads(frame) == []
    assert sum(h.messages for h in activity.hours(frame)) == 0
