"""Engagement over time: messages, threads and participants per period, top posters, top
threads, and when people post (weekday and hour of day, UTC).

Every count here is of posts *inside the window* (`facts.bounds`); "started" uses the
thread's earliest post in the scope (`facts.thread_starts`).  Definitions: docs/analytics.md.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress

from analytics import periods
from analytics.frame import Frame
from tests.analytics.legacy.facts import bounds, facts, period_indexes, person_order

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class PeriodActivity:
    period: str  # 2018-10, 2018-Q4 or 2018
    start: str  # its first day, YYYY-MM-DD
    messages: int
    threads_started: int
    threads_active: int
    participants: int
    newcomers: int


@dataclass(frozen=True, slots=True)
class Totals:
    messages: int
    threads_started: int
    threads_active: int
    participants: int
    newcomers: int
    first: str | None  # the first and last post in the window (ISO, UTC)
    last: str | None
    undated: int  # posts of the scope's lists left out because they have no usable date


@dataclass(frozen=True, slots=True)
class Poster:
    person: str
    name: str
    messages: int
    threads_started: int
    threads: int  # distinct threads posted in
    first: str
    last: str
    newcomer: bool  # their first post in the scope is inside the window


@dataclass(frozen=True, slots=True)
class ThreadStat:
    thread: str
    subject: str
    started: str  # the thread's first post in the scope (may be before the window)
    last: str  # its last post inside the window
    messages: int  # posts inside the window
    replies: int  # posts inside the window other than the thread's first post
    participants: int  # distinct persons posting inside the window


@dataclass(frozen=True, slots=True)
class WeekdayCount:
    weekday: int  # 0 = Monday
    name: str
    messages: int


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: int  # 0-23, UTC
    messages: int


@dataclass(frozen=True, slots=True)
class DayCount:
    day: str
    messages: int
    threads: int
    participants: int


@dataclass(frozen=True, slots=True)
class ThreadCounts:
    """Per thread with a post inside the window, counted inside the window."""

    messages: Counter[str]
    replies: dict[str, int]  # posts other than the thread's first post
    participants: Counter[str]
    last: dict[str, int]  # date of its last post inside the window


def _per_period(pairs: Iterable[tuple[int, object]]) -> Counter[int]:
    """Distinct (period, thing) pairs counted per period."""
    return Counter(index for index, _ in set(pairs))


def series(frame: Frame, period: str = "month") -> list[PeriodActivity]:
    """One row per period of `periods.span` (empty periods included, as zeros)."""
    periods.check_period(period)
    found, low, high = bounds(frame)
    indexes = period_indexes(frame, period)[low:high]
    messages = Counter(indexes)
    started = Counter(compress(indexes, found.is_start[low:high]))
    newcomers = Counter(compress(indexes, found.is_first[low:high]))
    threads = _per_period(zip(indexes, found.threads[low:high], strict=True))
    people = _per_period(zip(indexes, found.persons[low:high], strict=True))
    return [
        PeriodActivity(
            periods.label(i, period),
            periods.first_day(i, period),
            messages[i],
            started[i],
            threads[i],
            people[i],
            newcomers[i],
        )
        for i in periods.span(frame, period)
    ]


def totals(frame: Frame) -> Totals:
    found, low, high = bounds(frame)
    return Totals(
        messages=high - low,
        threads_started=sum(found.is_start[low:high]),
        threads_active=len(set(found.threads[low:high])),
        participants=len(set(found.persons[low:high])),
        newcomers=sum(found.is_first[low:high]),
        first=periods.iso(found.dates[low]) if high > low else None,
        last=periods.iso(found.dates[high - 1]) if high > low else None,
        undated=frame.undated,
    )


def top_posters(frame: Frame, limit: int | None = 20) -> list[Poster]:
    """The persons with the most posts in the window (ties: by name, then key)."""
    found, low, high = bounds(frame)
    persons, dates = found.persons[low:high], found.dates[low:high]
    count = Counter(persons)
    started = Counter(compress(persons, found.is_start[low:high]))
    threads = Counter(p for p, _ in set(zip(persons, found.threads[low:high], strict=True)))
    first = dict(zip(reversed(persons), reversed(dates), strict=True))
    last = dict(zip(persons, dates, strict=True))
    order = sorted(count, key=lambda p: (-count[p], person_order(frame, p)))
    chosen = order if limit is None else order[:limit]
    return [
        Poster(
            frame.person(p).key,
            frame.person(p).name,
            count[p],
            started[p],
            threads[p],
            periods.iso(first[p]) or "",
            periods.iso(last[p]) or "",
            found.firsts[p].date == first[p],
        )
        for p in chosen
    ]


def thread_counts(frame: Frame) -> ThreadCounts:
    found, low, high = bounds(frame)
    threads = found.threads[low:high]
    messages = Counter(threads)
    started_inside = set(compress(threads, found.is_start[low:high]))
    return ThreadCounts(
        messages=messages,
        replies={t: n - (t in started_inside) for t, n in messages.items()},
        participants=Counter(t for t, _ in set(zip(threads, found.persons[low:high], strict=True))),
        last=dict(zip(threads, found.dates[low:high], strict=True)),
    )


def top_threads(
    frame: Frame, by: str = "replies", limit: int | None = 20, counts: ThreadCounts | None = None
) -> list[ThreadStat]:
    """Threads with a post in the window, counted inside the window, ranked by replies (then
    participants) or by participants (then replies); ties by the earlier start, then id.
    Pass `counts` (`thread_counts(frame)`) to rank the same window both ways."""
    if by not in ("replies", "participants"):
        raise ValueError(f"top threads by replies or participants, not {by!r}")
    counts = counts or thread_counts(frame)
    starts = facts(frame).starts
    replies, people = counts.replies, counts.participants
    if by == "replies":
        keys = {t: (-replies[t], -people[t], starts[t].date, t) for t in counts.messages}
    else:
        keys = {t: (-people[t], -replies[t], starts[t].date, t) for t in counts.messages}
    order = sorted(keys, key=keys.__getitem__)
    chosen = order if limit is None else order[:limit]
    return [
        ThreadStat(
            t,
            ref.subject if (ref := frame.threads.get(t)) else "",
            periods.iso(starts[t].date) or "",
            periods.iso(counts.last[t]) or "",
            counts.messages[t],
            replies[t],
            people[t],
        )
        for t in chosen
    ]


def _day_counts(frame: Frame) -> Counter[int]:
    found, low, high = bounds(frame)
    return Counter(found.days[low:high])


def weekdays(frame: Frame) -> list[WeekdayCount]:
    """Posts in the window by day of the week of their UTC date (1970-01-01 was a Thursday)."""
    counts: Counter[int] = Counter()
    for day, n in _day_counts(frame).items():
        counts[(day + 3) % 7] += n
    return [WeekdayCount(i, name, counts[i]) for i, name in enumerate(WEEKDAYS)]


def hours(frame: Frame) -> list[HourCount]:
    """Posts in the window by hour of the day, UTC (not the sender's local time)."""
    found, low, high = bounds(frame)
    counts = Counter(found.hours[low:high])
    return [HourCount(h, counts[h]) for h in range(24)]


def busiest_days(frame: Frame, limit: int = 10) -> list[DayCount]:
    """The UTC calendar days with the most posts (ties: the earlier day first)."""
    found, low, high = bounds(frame)
    counts = _day_counts(frame)
    rows = []
    for day in sorted(counts, key=lambda d: (-counts[d], d))[:limit]:
        first = bisect_left(found.dates, day * 86400, low, high)
        after = bisect_left(found.dates, (day + 1) * 86400, low, high)
        rows.append(
            DayCount(
                periods.day(day * 86400),
                counts[day],
                len(set(found.threads[first:after])),
                len(set(found.persons[first:after])),
            )
        )
    return rows
