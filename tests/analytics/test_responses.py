"""responses: answered share, nearest-rank median and p90 of the time to first reply,
unanswered threads with newcomers flagged (tests/analytics/scenario.py)."""

from __future__ import annotations

from datetime import date

from analytics import responses
from analytics.facts import nearest_rank
from tests.analytics.framekit import build
from tests.analytics.scenario import scenario


def test_summary_whole_scope() -> None:
    found = responses.summary(scenario())
    # T1 answered by Bob after 2 h; T3 answered by Alice after 36 h (Bob's own follow-up #6
    # is no answer); T2, T4, T5 got nothing
    assert (found.threads, found.answered, found.share) == (5, 2, 0.4)
    assert (found.median_seconds, found.p90_seconds) == (7200, 129600)
    assert (found.median_hours, found.p90_hours) == (2.0, 36.0)
    # T1 (Alice's first post), T2 (Carol's), T4 (Dave's) open with their starter's first post
    assert (found.newcomer_threads, found.newcomer_unanswered) == (3, 2)


def test_window_selects_threads_by_their_start() -> None:
    found = responses.summary(scenario(start=date(2020, 2, 1), end=date(2020, 3, 31)))
    assert (found.threads, found.answered, found.share, found.median_seconds) == (2, 1, 0.5, 129600)
    assert (found.newcomer_threads, found.newcomer_unanswered) == (1, 1)  # Dave's T4
    # a reply after the window's end still answers a thread started inside it
    late = responses.summary(scenario(start=date(2020, 2, 1), end=date(2020, 2, 3)))
    assert (late.threads, late.answered, late.median_seconds) == (1, 1, 129600)


def test_by_period() -> None:
    rows = responses.by_period(scenario())
    table = {r.period: (r.threads, r.answered, r.share, r.median_hours, r.p90_hours) for r in rows}
    assert table["2020-01"] == (2, 1, 0.5, 2.0, 2.0)
    assert table["2020-02"] == (1, 1, 1.0, 36.0, 36.0)
    assert table["2020-03"] == (1, 0, 0.0, None, None)
    assert table["2020-04"] == (0, 0, None, None, None)
    assert [r.percent for r in rows][:4] == [50.0, 100.0, 0.0, None]


def test_unanswered_newest_first_with_newcomers_flagged() -> None:
    rows = responses.unanswered(scenario())
    assert [(r.thread, r.name, r.newcomer, r.messages) for r in rows] == [
        ("T5", "Alice", False, 1),
        ("T4", "Dave", True, 1),
        ("T2", "Carol", True, 1),
    ]
    assert rows[1].date == "2020-03-10T11:00:00+00:00"
    assert responses.unanswered(scenario(), limit=1)[0].thread == "T5"


def test_a_thread_only_its_starter_posts_in_is_unanswered() -> None:
    frame = build(
        [
            ("2021-05-01T10:00", "T", "Ann", None),
            ("2021-05-01T11:00", "T", "Ann", 1),
            ("2021-05-03T10:00", "U", "Ann", None),
            ("2021-05-04T10:00", "U", "Ben", None),  # no In-Reply-To, but in the thread
        ]
    )
    rows = responses.unanswered(frame)
    assert [(r.thread, r.messages, r.newcomer) for r in rows] == [("T", 2, True)]
    assert responses.summary(frame).median_seconds == 86400  # 05-03 10:00 to 05-04 10:00


def test_nearest_rank() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([4, 1, 3, 2], 50) == 2  # the lower middle value, never an average
    assert nearest_rank([4, 1, 3, 2], 90) == 4  # ceil(3.6) = 4th
    assert nearest_rank(list(range(1, 11)), 90) == 9  # ceil(9.0) = 9th
    assert nearest_rank(list(range(1, 12)), 90) == 10  # ceil(9.9) = 10th
    assert nearest_rank([5, 6], 0) == 5
