"""Newcomers' "answered" (`analytics.cohorts._answered_after`, issue 14 task PN: per thread
its last post, that post's author and the last post of anyone else, from the facts' columns)
equals the walk over every later post it replaced (kept below, from 7a3c40a) on random frames:
threads ending with the newcomer's own posts, self-replies, windows, one post a thread.  And
`cohort_counts` over the columns equals its Counters of before (kept below too)."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import Counter, defaultdict
from itertools import compress

import pytest

from analytics import cohorts, periods
from analytics.facts import bounds, facts, inside, period_column, period_indexes
from analytics.frame import Frame, Post
from tests.analytics.framekit import build
from tests.analytics.test_network_reference import _frame


def _previous(frame: Frame, chosen: list[Post]) -> set[str]:
    answered: set[str] = set()
    if not chosen:
        return answered
    keys = {p.key for p in chosen}
    pending: dict[str, list[Post]] = defaultdict(list)
    begin = bisect_left(facts(frame).dates, min(p.date for p in chosen))
    for post in frame.posts[begin:]:
        waiting = pending.get(post.thread)
        if waiting:
            answered.update(w.key for w in waiting if w.person != post.person)
            pending[post.thread] = [w for w in waiting if w.person == post.person]
        if post.key in keys:
            pending[post.thread].append(post)
    return answered


@pytest.mark.parametrize("seed", range(80))
def test_answered_equals_the_walk(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    frame = _frame(rng)
    firsts = sorted(facts(frame).firsts.values(), key=lambda p: (-p.date, -p.id))
    for chosen in (firsts, firsts[: rng.randint(0, 5)], rng.sample(firsts, len(firsts) // 2)):
        assert cohorts._answered_after(frame, chosen) == _previous(frame, chosen)
    rows = cohorts.newcomers(frame)
    monkeypatch.setattr(cohorts, "_answered_after", _previous)
    assert rows == cohorts.newcomers(frame)
    # each newcomer's posts inside the window, as the Counter of the previous code counted
    found, low, high = bounds(frame)
    within = inside(frame)
    counts = Counter(found.persons[low:high])
    shown = [p for p in firsts if within(p.date)]
    assert [r.messages for r in rows] == [counts[p.person] for p in shown]


@pytest.mark.parametrize("seed", range(40))
def test_answered_among_posts_of_the_same_time(seed: int) -> None:
    """Posts of one timestamp follow each other by id (the frame's order), as in the walk."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str, int | None]] = []
    for number in range(1, rng.randint(2, 60)):
        parent = rng.randint(1, number - 1) if number > 1 and rng.random() < 0.5 else None
        when = rng.choice(["2020-01-01T10:00", "2020-01-01T11:00"])
        rows.append((when, f"t{rng.randint(1, 3)}", rng.choice(["Ann", "Bob", "Cy"]), parent))
    frame = build(rows)
    firsts = list(facts(frame).firsts.values())
    assert cohorts._answered_after(frame, firsts) == _previous(frame, firsts)


def _previous_counts(frame: Frame, period: str, lapse_days: int) -> list[cohorts.CohortPeriod]:
    """`cohorts.cohort_counts` of 7a3c40a (Counters over the per-post lists)."""
    found, low, high = bounds(frame)
    indexes = period_indexes(frame, period)[low:high]
    active = Counter(i for i, _ in set(zip(indexes, found.persons[low:high], strict=True)))
    newcomers = Counter(compress(indexes, found.is_first[low:high]))
    lapsed = Counter(compress(indexes, found.is_last[low:high]))
    horizon = frame.posts[-1].date if frame.posts else 0
    rows = []
    for i in periods.span(frame, period):
        known = periods.end_ts(i, period) + lapse_days * cohorts.DAY <= horizon
        rows.append(
            cohorts.CohortPeriod(
                periods.label(i, period),
                periods.first_day(i, period),
                active[i],
                newcomers[i],
                active[i] - newcomers[i],
                lapsed[i] if known else None,
            )
        )
    return rows


@pytest.mark.parametrize("seed", range(40))
def test_cohort_counts_equal_the_previous_code(seed: int) -> None:
    frame = _frame(random.Random(seed))
    for period in ("month", "quarter", "year"):
        for lapse in (0, 30, cohorts.LAPSE_DAYS):
            found = cohorts.cohort_counts(frame, period, lapse)
            assert found == _previous_counts(frame, period, lapse)


def _previous_seen(frame: Frame, period: str, horizon: int) -> dict[int, Counter[int]]:
    """The cohorts' cells of `cohorts.retention` at 7a3c40a (a set of (person, period))."""
    found, low, high = bounds(frame)
    indexes = period_indexes(frame, period)
    cohort_of = {
        found.persons[i]: indexes[i] for i in compress(range(low, high), found.is_first[low:high])
    }
    seen: dict[int, Counter[int]] = defaultdict(Counter)
    for person, index in set(zip(found.persons[low:high], indexes[low:high], strict=True)):
        cohort = cohort_of.get(person)
        if cohort is not None and index - cohort <= horizon:
            seen[cohort][index - cohort] += 1
    return seen


@pytest.mark.parametrize("seed", range(40))
def test_retention_equals_the_previous_code(seed: int) -> None:
    frame = _frame(random.Random(seed))
    found, low, high = bounds(frame)
    for period in ("month", "quarter", "year"):
        column = period_column(found, period)[low:high]
        for horizon in (0, 2, cohorts.HORIZON):
            assert cohorts._seen(found, column, low, high, horizon) == _previous_seen(
                frame, period, horizon
            )


@pytest.mark.parametrize("seed", range(30))
def test_newest_newcomers_are_the_first_of_them_all(seed: int) -> None:
    """/stats/people makes the rows it shows and counts the others (`newcomer_count`)."""
    frame = _frame(random.Random(seed))
    every = cohorts.newcomers(frame)
    assert cohorts.newcomer_count(frame) == len(every)
    for limit in (1, 3, 50):
        assert cohorts.newcomers(frame, limit) == every[:limit]
