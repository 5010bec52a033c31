"""cohorts: newcomers / returning / lapsed per period, retention, the newcomers list (exact
numbers on tests/analytics/scenario.py: first posts Alice #1, Bob #2, Carol #4 in January,
Dave #8 in March; last posts Bob #6 in February, Carol #9 and Dave #8 in March, Alice #11 on
2020-09-01, the scope's last post)."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import cohorts
from tests.analytics.framekit import build
from tests.analytics.scenario import scenario


def _table(rows: list[cohorts.CohortPeriod]) -> dict[str, tuple[int, int, int, int | None]]:
    return {r.period: (r.active, r.newcomers, r.returning, r.lapsed) for r in rows}


def test_counts_with_a_short_lapse() -> None:
    table = _table(cohorts.cohort_counts(scenario(), lapse_days=30))
    assert table["2020-01"] == (3, 3, 0, 0)
    assert table["2020-02"] == (2, 0, 2, 1)  # Bob's last post
    assert table["2020-03"] == (3, 1, 2, 2)  # Carol's and Dave's last posts
    assert table["2020-06"] == (0, 0, 0, 0)
    # July ends 2020-08-01: +30 days is 08-31, before the last post (09-01 10:00): known
    assert table["2020-07"] == (0, 0, 0, 0)
    # August ends 09-01 00:00: +30 days is after the last post: too recent to tell
    assert table["2020-08"] == (0, 0, 0, None)
    assert table["2020-09"] == (1, 0, 1, None)


def test_default_lapse_of_180_days() -> None:
    table = _table(cohorts.cohort_counts(scenario()))
    # February ends 03-01; +180 days = 08-28 <= 09-01: known.  March ends 04-01; +180 = 09-28.
    assert table["2020-02"][3] == 1
    assert table["2020-03"][3] is None


def test_counts_by_quarter() -> None:
    rows = cohorts.cohort_counts(scenario(), "quarter", lapse_days=0)
    assert [(r.period, r.active, r.newcomers, r.returning, r.lapsed) for r in rows] == [
        ("2020-Q1", 4, 4, 0, 3),  # Bob, Carol and Dave post for the last time in Q1
        ("2020-Q2", 0, 0, 0, 0),
        ("2020-Q3", 1, 0, 1, None),  # ends 10-01, after the last post
    ]


def test_the_window_clips_the_first_period() -> None:
    # from 01-07: Alice posts (#3) but her first post (#1, 01-06) is before the window, so in
    # the clipped January she is returning; Carol (#4) is new
    table = _table(cohorts.cohort_counts(scenario(start=date(2020, 1, 7)), lapse_days=30))
    assert table["2020-01"] == (2, 1, 1, 0)


def test_retention() -> None:
    found = cohorts.retention(scenario(), horizon=3)
    assert [(r.cohort, r.size, r.retained) for r in found.rows] == [
        ("2020-01", 3, (3, 2, 2, 0)),  # Feb: Alice, Bob; Mar: Alice, Carol; Apr: nobody
        ("2020-03", 1, (1, 0, 0, 0)),
    ]
    assert [(p.offset, p.cohorts, p.members, p.retained, p.share) for p in found.curve] == [
        (0, 2, 4, 4, 1.0),
        (1, 2, 4, 2, 0.5),
        (2, 2, 4, 2, 0.5),
        (3, 2, 4, 0, 0.0),
    ]
    assert [p.percent for p in found.curve] == [100.0, 50.0, 50.0, 0.0]


def test_retention_cells_after_the_window_are_not_observed() -> None:
    found = cohorts.retention(scenario(end=date(2020, 3, 31)), horizon=3)
    assert [(r.cohort, r.retained) for r in found.rows] == [
        ("2020-01", (3, 2, 2, None)),
        ("2020-03", (1, None, None, None)),
    ]
    assert found.curve[3].cohorts == 0 and found.curve[3].share is None
    # cohorts start inside the window: from February nobody is new except Dave
    late = cohorts.retention(scenario(start=date(2020, 2, 1)), horizon=1)
    assert [(r.cohort, r.size) for r in late.rows] == [("2020-03", 1)]


def test_newcomers_list() -> None:
    found = cohorts.newcomers(scenario())
    assert [(n.name, n.thread, n.started_thread, n.answered, n.messages) for n in found] == [
        ("Dave", "T4", True, False, 1),
        ("Carol", "T2", True, False, 2),
        ("Bob", "T1", False, True, 3),  # Alice answered his reply (#3)
        ("Alice", "T1", True, True, 5),
    ]
    assert found[0].first_post == "2020-03-10T11:00:00+00:00"
    window = cohorts.newcomers(scenario(start=date(2020, 2, 1)))
    assert [n.name for n in window] == ["Dave"]


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        cohorts.cohort_counts(scenario(), "fortnight")
    with pytest.raises(ValueError):
        cohorts.cohort_counts(scenario(), lapse_days=-1)
    with pytest.raises(ValueError):
        cohorts.retention(scenario(), horizon=-1)


def test_empty_frame() -> None:
    assert cohorts.cohort_counts(build([])) == []
    assert cohorts.retention(build([])).rows == ()
    assert cohorts.newcomers(build([])) == []
