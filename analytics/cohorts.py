"""Who arrives, who stays, who leaves: newcomers, returning and lapsed participants per period,
and the retention of first-post cohorts.

A person's first and last post are taken over the scope's whole history; the window decides
which periods are shown and which posts count as activity.  Definitions: docs/analytics.md.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import compress

from analytics import periods
from analytics.facts import bounds, facts, inside, period_indexes
from analytics.frame import Frame, Post

LAPSE_DAYS = 180
HORIZON = 12
DAY = 86400


@dataclass(frozen=True, slots=True)
class CohortPeriod:
    period: str
    start: str
    active: int  # distinct persons posting in the period (inside the window)
    newcomers: int  # ... whose first post in the scope is in this period
    returning: int  # ... whose first post in the scope is before this period
    lapsed: int | None  # persons whose last post is in this period; None: too recent to say


@dataclass(frozen=True, slots=True)
class RetentionRow:
    cohort: str  # the period of the members' first post
    size: int
    retained: tuple[int | None, ...]  # [k]: members posting k periods later; None: not observed


@dataclass(frozen=True, slots=True)
class RetentionPoint:
    offset: int  # k periods after the first post
    cohorts: int  # cohorts observed that far
    members: int  # their members
    retained: int  # of whom posted in period k
    share: float | None  # retained / members (4 decimals)
    percent: float | None  # the same in per cent (1 decimal), for charts


@dataclass(frozen=True, slots=True)
class Retention:
    period: str
    horizon: int
    rows: tuple[RetentionRow, ...]
    curve: tuple[RetentionPoint, ...]


@dataclass(frozen=True, slots=True)
class Newcomer:
    person: str
    name: str
    first_post: str  # ISO date-time of their first post in the scope
    thread: str  # where they first posted
    subject: str
    started_thread: bool  # their first post started that thread
    answered: bool  # someone else posted in that thread after it
    messages: int  # their posts inside the window


def cohort_counts(
    frame: Frame, period: str = "month", lapse_days: int = LAPSE_DAYS
) -> list[CohortPeriod]:
    """Newcomers / returning / lapsed per period of `periods.span`.

    Lapsed: the person's last post in the scope falls in the period (and inside the window)
    and at least `lapse_days` passed between the period's end and the scope's last post;
    for later periods the count is None (nobody can be called gone yet)."""
    periods.check_period(period)
    if lapse_days < 0:
        raise ValueError("lapse_days must not be negative")
    found, low, high = bounds(frame)
    indexes = period_indexes(frame, period)[low:high]
    # newcomers: the period holds the person's first post in the scope (inside the window,
    # hence in the period as the window clips it); lapsed: their last post
    active = Counter(i for i, _ in set(zip(indexes, found.persons[low:high], strict=True)))
    newcomers = Counter(compress(indexes, found.is_first[low:high]))
    lapsed = Counter(compress(indexes, found.is_last[low:high]))
    horizon = frame.posts[-1].date if frame.posts else 0
    rows = []
    for i in periods.span(frame, period):
        known = periods.end_ts(i, period) + lapse_days * DAY <= horizon
        rows.append(
            CohortPeriod(
                periods.label(i, period),
                periods.first_day(i, period),
                active[i],
                newcomers[i],
                active[i] - newcomers[i],
                lapsed[i] if known else None,
            )
        )
    return rows


def retention(frame: Frame, period: str = "month", horizon: int = HORIZON) -> Retention:
    """For each cohort (persons whose first post in the scope falls in a period inside the
    window), how many posted again 1..`horizon` periods later, inside the window.  Cells past
    the window's last period are None (not observed yet)."""
    periods.check_period(period)
    if horizon < 0:
        raise ValueError("horizon must not be negative")
    shown = periods.span(frame, period)
    found, low, high = bounds(frame)
    indexes = period_indexes(frame, period)
    cohort_of = {
        found.persons[i]: indexes[i] for i in compress(range(low, high), found.is_first[low:high])
    }
    seen: dict[int, Counter[int]] = defaultdict(Counter)  # cohort -> offset -> persons
    for person, index in set(zip(found.persons[low:high], indexes[low:high], strict=True)):
        cohort = cohort_of.get(person)
        if cohort is not None and index - cohort <= horizon:
            seen[cohort][index - cohort] += 1
    rows = []
    last = shown[-1] if shown else 0
    for cohort in sorted(seen):
        cells = tuple(seen[cohort][k] if cohort + k <= last else None for k in range(horizon + 1))
        rows.append(RetentionRow(periods.label(cohort, period), seen[cohort][0], cells))
    return Retention(period, horizon, tuple(rows), _curve(rows, horizon))


def _curve(rows: list[RetentionRow], horizon: int) -> tuple[RetentionPoint, ...]:
    """Retention pooled over the cohorts observed at each offset."""
    points = []
    for k in range(horizon + 1):
        observed = [r for r in rows if r.retained[k] is not None]
        members = sum(r.size for r in observed)
        retained = sum(r.retained[k] or 0 for r in observed)
        share = round(retained / members, 4) if members else None
        percent = round(100 * retained / members, 1) if members else None
        points.append(RetentionPoint(k, len(observed), members, retained, share, percent))
    return tuple(points)


def newcomers(frame: Frame, limit: int | None = None) -> list[Newcomer]:
    """Persons whose first post in the scope is inside the window, newest first."""
    found = facts(frame)
    within = inside(frame)
    _, low, high = bounds(frame)
    counts = Counter(found.persons[low:high])
    chosen = sorted(
        (p for p in found.firsts.values() if within(p.date)),
        key=lambda p: (-p.date, -p.id),
    )
    if limit is not None:
        chosen = chosen[:limit]
    answered = _answered_after(frame, chosen)
    rows = []
    for post in chosen:
        ref = frame.person(post.person)
        thread = frame.threads.get(post.thread)
        rows.append(
            Newcomer(
                ref.key,
                ref.name,
                periods.iso(post.date) or "",
                post.thread,
                thread.subject if thread else "",
                found.starts[post.thread] is post,
                post.key in answered,
                counts[post.person],
            )
        )
    return rows


def _answered_after(frame: Frame, chosen: list[Post]) -> set[str]:
    """Of the posts `chosen`, those after which another person posted in the same thread."""
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
