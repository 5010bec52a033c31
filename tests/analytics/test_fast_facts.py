"""The vectorised facts and /stats metrics (issue 14, task VX) give exactly what the per-post
Python code gave (kept in tests/analytics/legacy): every figure, every tie-break, the order
of the dicts, on real mail and on random frames full of ties (same dates, counts, names and
keys; persons the frame does not know; equal thread ids held by distinct strings; replies to
nobody; cross-posted posts; windows inside, around and outside the posts; empty frames)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import astuple, is_dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from analytics import activity, facts, responses
from analytics.frame import Frame, PersonRef, Post, ThreadRef, load_frame
from analytics.scope import Scope, resolve_scope
from tests.analytics.legacy import activity as old_activity
from tests.analytics.legacy import facts as old_facts
from tests.analytics.legacy import responses as old_responses

BASE = 1_262_304_000  # 2010-01-01 UTC
NAMES = ["alice", "Alice", "ALICE", "bob", "Bob", "carol", "", "Émile", "émile"]


def _rows(found: Any) -> Any:
    if isinstance(found, list):
        return [_rows(x) for x in found]
    return astuple(found) if is_dataclass(found) and not isinstance(found, type) else found


def _frame_facts(frame: Frame) -> None:
    made, old = facts.facts(frame), old_facts.facts(frame)
    fields = (
        *("starts", "start_positions", "firsts", "lasts", "first_replies", "sizes", "dates"),
        *("days", "hours", "months", "threads", "persons", "parents", "is_start", "is_first"),
        "is_last",
    )
    for name in fields:
        mine, theirs = getattr(made, name), getattr(old, name)
        assert mine == theirs, name
        if isinstance(theirs, dict):  # the same posts (identity) in the same key order
            assert list(mine) == list(theirs), name
            assert all(a is b for a, b in zip(mine.values(), theirs.values(), strict=True))
    for period in ("month", "quarter", "year"):
        assert facts.period_indexes(frame, period) == old_facts.period_indexes(frame, period)
    index, old_index = facts.post_index(frame), old_facts.post_index(frame)
    for name in ("by_person", "by_parent_person", "by_thread"):
        mine, theirs = getattr(index, name), getattr(old_index, name)
        assert mine == theirs and list(mine) == list(theirs), name
        pairs = zip(mine.values(), theirs.values(), strict=True)
        assert all(a.typecode == b.typecode for a, b in pairs), name
    parents = [-1 if p is None else p for p in old.parents]
    assert made.parent_persons.tolist() == parents


def _outcomes(found: list[Any]) -> list[tuple[object, ...]]:
    return [(id(o.start), id(o.reply), o.messages, o.position) for o in found]


Metric = Callable[[Any, Any], Any]  # (the activity module, the responses module) -> figures


def _metrics(frame: Frame) -> dict[str, Metric]:
    """Every metric of the overview, /stats/people and /stats/responses."""
    found: dict[str, Metric] = {
        "totals": lambda a, r: a.totals(frame),
        "weekdays": lambda a, r: a.weekdays(frame),
        "hours": lambda a, r: a.hours(frame),
        "outcomes": lambda a, r: _outcomes(r.outcomes(frame)),
        "summary": lambda a, r: r.summary(frame),
        "unanswered": lambda a, r: r.unanswered(frame),
    }
    for period in ("month", "quarter", "year"):
        found |= _per_period(frame, period)
    for limit in (None, 0, 1, 2, 3, 20):
        found |= _ranked(frame, limit)
    for days in (10, 3, 1, 0):
        found[f"days {days}"] = _busiest(frame, days)
    return found


def _per_period(frame: Frame, period: str) -> dict[str, Metric]:
    return {
        f"series {period}": lambda a, r: a.series(frame, period),
        f"by_period {period}": lambda a, r: r.by_period(frame, period),
    }


def _ranked(frame: Frame, limit: int | None) -> dict[str, Metric]:
    return {
        f"posters {limit}": lambda a, r: a.top_posters(frame, limit),
        f"threads replies {limit}": lambda a, r: a.top_threads(frame, "replies", limit),
        f"threads participants {limit}": lambda a, r: a.top_threads(frame, "participants", limit),
        f"unanswered {limit}": lambda a, r: r.unanswered(frame, limit),
    }


def _busiest(frame: Frame, limit: int) -> Metric:
    return lambda a, r: a.busiest_days(frame, limit)


def compare(frame: Frame) -> None:
    """Every fact and metric, old and new."""
    facts.clear_cache()
    old_facts.clear_cache()
    _frame_facts(frame)
    for name, metric in _metrics(frame).items():
        mine = metric(activity, responses)
        theirs = metric(old_activity, old_responses)
        assert _rows(mine) == _rows(theirs), name
    mine_counts, old_counts = activity.thread_counts(frame), old_activity.thread_counts(frame)
    for name in ("messages", "replies", "participants", "last"):
        assert getattr(mine_counts, name) == getattr(old_counts, name), name
    assert list(mine_counts.messages) == list(old_counts.messages)
    assert list(mine_counts.last) == list(old_counts.last)


def random_frame(rng: random.Random, size: int) -> Frame:
    """`size` posts over a few days (or a few years), many at the same second."""
    spread = rng.choice((3, 40, 900, 4000))  # days
    persons = rng.randint(1, 9)
    big = rng.random() < 0.2  # person ids far above the post count
    pids = [rng.randint(10**6, 10**9) if big else i + 1 for i in range(persons)]
    threads = [f"T{i}" for i in range(rng.randint(1, 12))]
    copies = rng.random() < 0.3  # equal thread ids in distinct string objects
    seconds = [BASE + rng.randrange(spread) * 86400 + rng.choice((0, 3600, 3601, 86399))]
    posts: list[Post] = []
    for number in range(1, size + 1):
        if rng.random() < 0.6 or not seconds:
            seconds.append(BASE + rng.randrange(spread) * 86400 + rng.randrange(0, 86400, 1800))
        when = rng.choice(seconds) - (86400 * 365 * 45 if rng.random() < 0.02 else 0)
        thread = rng.choice(threads)
        if copies and rng.random() < 0.5:
            thread = "".join(list(thread))  # a new str object
        parent = rng.choice(posts) if posts and rng.random() < 0.7 else None
        posts.append(
            Post(
                id=rng.randrange(10**6) * 100 + number,
                key=f"m{number}",
                date=when,
                thread=thread,
                parent=parent.key if parent else None,
                person=rng.choice(pids),
                parent_person=parent.person if parent and rng.random() < 0.9 else None,
                lists=rng.choice(((1,), (2,), (1, 2))),
            )
        )
    posts.sort(key=lambda p: (p.date, p.id))
    known = {
        pid: PersonRef(pid, rng.choice(("k-a", "k-b", f"k-{pid}", "")), rng.choice(NAMES))
        for pid in pids
        if rng.random() < 0.85  # the others: unknown persons, all named alike
    }
    subjects = {t: ThreadRef(t, f"About {t}", None) for t in threads if rng.random() < 0.8}
    start = end = None
    if rng.random() < 0.7:
        day = date(2010, 1, 1) + timedelta(days=rng.randrange(-30, spread + 30))
        start = day if rng.random() < 0.7 else None
        end = day + timedelta(days=rng.randrange(0, spread + 1)) if rng.random() < 0.7 else None
    scope = Scope(("alpha", "beta"), (1, 2), start=start, end=end)
    return Frame(scope, posts, rng.randrange(3), known, subjects, {1: "alpha", 2: "beta"})


@pytest.mark.parametrize("seed", range(150))
def test_random_frames_as_before(seed: int) -> None:
    rng = random.Random(seed)
    compare(random_frame(rng, rng.choice((0, 1, 2, 5, 12, 40, 120))))


def test_empty_frame_and_empty_window() -> None:
    frame = random_frame(random.Random(7), 30)
    compare(Frame(frame.scope, [], 0, {}, {}, {}))
    outside = Scope(("alpha",), (1,), start=date(1990, 1, 1), end=date(1990, 1, 2))
    compare(frame.with_scope(outside))


@pytest.mark.parametrize(
    ("window", "bots"),
    [
        ((None, None), False),
        ((date(2018, 10, 1), date(2018, 10, 31)), False),
        ((date(2018, 9, 17), date(2018, 10, 5)), False),
        ((None, None), True),
    ],
)
def test_real_mail_as_before(
    twisted_db: sqlite3.Connection, window: tuple[date | None, date | None], bots: bool
) -> None:
    start, end = window
    scope = resolve_scope(
        twisted_db, lists=["twisted-python"], start=start, end=end, include_bots=bots
    )
    compare(load_frame(twisted_db, scope))
