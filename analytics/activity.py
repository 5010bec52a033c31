"""Engagement over time: messages, threads and participants per period, top posters, top
threads, and when people post (weekday and hour of day, UTC).

Every count here is of posts *inside the window* (`facts.bounds`); "started" uses the
thread's earliest post in the scope (`facts.thread_starts`).  Definitions: docs/analytics.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from analytics import periods
from analytics.facts import bounds, facts, period_column, person_order
from analytics.facts_columns import (
    Codes,
    Index,
    Ints,
    distinct_pairs,
    first_positions,
    last_positions,
)
from analytics.frame import Frame

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
    """Per thread with a post inside the window, counted inside the window.  Arrays by thread
    (`codes`: the threads' codes, `analytics.facts_columns`, in the order of their first post
    inside the window); the dicts by thread id are made the first time they are read."""

    thread_ids: list[str]  # code -> thread id
    codes: Ints
    message_counts: Ints
    reply_counts: Ints  # posts other than the thread's first post
    participant_counts: Ints
    last_dates: Ints  # date of its last post inside the window
    start_dates: Ints  # date of its first post in the scope
    views: dict[str, dict[str, int]] = field(default_factory=dict)  # the dicts, once made

    def _view(self, name: str, values: Ints, kind: type[dict[str, int]] = dict) -> dict[str, int]:
        found = self.views.get(name)
        if found is None:
            ids = map(self.thread_ids.__getitem__, self.codes.tolist())
            made = kind(dict(zip(ids, values.tolist(), strict=True)))
            found = self.views.setdefault(name, made)
        return found

    @property
    def messages(self) -> Counter[str]:
        return cast(Counter[str], self._view("messages", self.message_counts, Counter))

    @property
    def replies(self) -> dict[str, int]:
        return self._view("replies", self.reply_counts)

    @property
    def participants(self) -> Counter[str]:
        return cast(Counter[str], self._view("participants", self.participant_counts, Counter))

    @property
    def last(self) -> dict[str, int]:
        return self._view("last", self.last_dates)


def _pairs_per(indexes: Index, keys: Index, width: int, size: int) -> Ints:
    """Distinct (index, key) pairs counted per index (indexes from 0 to size - 1, keys
    below width): threads or persons per period, threads per person, persons per thread."""
    pairs = distinct_pairs(indexes, keys, width)
    return np.bincount(pairs // width, minlength=size)[:size]


def _count(indexes: Index, size: int) -> Ints:
    return np.bincount(indexes, minlength=size)[:size]


def series(frame: Frame, period: str = "month") -> list[PeriodActivity]:
    """One row per period of `periods.span` (empty periods included, as zeros)."""
    periods.check_period(period)
    found, low, high = bounds(frame)
    cols = found.columns
    shown = periods.span(frame, period)
    indexes = period_column(found, period)[low:high] - shown.start
    inside = (indexes >= 0) & (indexes < len(shown))  # every post, but stay exact if not
    size = len(shown)
    indexes = indexes[inside]
    messages = _count(indexes, size)
    started = _count(indexes[cols.is_start[low:high][inside]], size)
    newcomers = _count(indexes[cols.is_first[low:high][inside]], size)
    threads = _pairs_per(indexes, cols.thread[low:high][inside], cols.threads, size)
    people = _pairs_per(indexes, cols.person[low:high][inside], len(cols.person_ids), size)
    table = zip(
        messages.tolist(),
        started.tolist(),
        threads.tolist(),
        people.tolist(),
        newcomers.tolist(),
        strict=True,
    )
    return [
        PeriodActivity(periods.label(i, period), periods.first_day(i, period), *row)
        for i, row in zip(shown, table, strict=True)
    ]


def totals(frame: Frame) -> Totals:
    found, low, high = bounds(frame)
    cols = found.columns
    return Totals(
        messages=high - low,
        threads_started=int(np.count_nonzero(cols.is_start[low:high])),
        threads_active=_distinct(cols.thread[low:high], cols.threads),
        participants=_distinct(cols.person[low:high], len(cols.person_ids)),
        newcomers=int(np.count_nonzero(cols.is_first[low:high])),
        first=periods.iso(int(cols.dates[low])) if high > low else None,
        last=periods.iso(int(cols.dates[high - 1])) if high > low else None,
        undated=frame.undated,
    )


def _distinct_codes(codes: Codes) -> int:
    """How many distinct codes (a sort: numpy's hash-based `unique` is far slower here)."""
    ordered = np.sort(codes)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1 if len(ordered) else 0


def _distinct(codes: Codes, size: int) -> int:
    return int(np.count_nonzero(np.bincount(codes, minlength=size)))


def top_posters(frame: Frame, limit: int | None = 20) -> list[Poster]:
    """The persons with the most posts in the window (ties: by name, then key)."""
    found, low, high = bounds(frame)
    cols = found.columns
    size = len(cols.person_ids)
    persons = cols.person[low:high]
    count = np.bincount(persons, minlength=size)
    first = first_positions(persons, size)
    # candidates: every person posting, or those with at least the limit-th largest count
    chosen = np.flatnonzero(count)
    if limit is not None and 0 < limit < len(chosen):
        least = -np.partition(-count[chosen], limit - 1)[limit - 1]
        chosen = chosen[count[chosen] >= least]
    chosen = chosen[np.argsort(first[chosen], kind="stable")]  # Counter order: first post
    counts = dict(zip(chosen.tolist(), count[chosen].tolist(), strict=True))
    ids = dict(zip(chosen.tolist(), cols.person_ids[chosen].tolist(), strict=True))
    order = sorted(counts, key=lambda c: (-counts[c], person_order(frame, ids[c])))
    order = order if limit is None else order[:limit]
    picked = np.array(order, np.int64)
    started = np.bincount(persons[cols.is_start[low:high]], minlength=size)[picked]
    threads = _pairs_per(persons.astype(np.int64), cols.thread[low:high], cols.threads, size)
    firsts = cols.dates[low + first[picked]]
    lasts = cols.dates[low + last_positions(persons, size)[picked]]
    newcomer = cols.dates[cols.first_pos[picked]] == firsts
    rows = zip(
        order,
        started.tolist(),
        threads[picked].tolist(),
        _isos(firsts),
        _isos(lasts),
        newcomer.tolist(),
        strict=True,
    )
    return [
        Poster((ref := frame.person(ids[c])).key, ref.name, counts[c], *row) for c, *row in rows
    ]


def _isos(dates: Ints) -> list[str]:
    """`periods.iso` of each date (the same text, formatted by numpy: whole seconds, UTC)."""
    text: list[str] = np.datetime_as_string(dates.astype("datetime64[s]"), unit="s").tolist()
    return [f"{day_and_time}+00:00" for day_and_time in text]


def thread_counts(frame: Frame) -> ThreadCounts:
    found, low, high = bounds(frame)
    cols = found.columns
    size = cols.threads
    threads = cols.thread[low:high]
    first = first_positions(threads, size)
    codes = np.flatnonzero(first >= 0)
    codes = codes[np.argsort(first[codes], kind="stable")]
    messages = np.bincount(threads, minlength=size)[codes]
    starts = cols.start_pos[codes]
    started_inside = (starts >= low) & (starts < high)
    people = _pairs_per(threads.astype(np.int64), cols.person[low:high], len(cols.person_ids), size)
    return ThreadCounts(
        thread_ids=cols.thread_ids,
        codes=codes,
        message_counts=messages,
        reply_counts=messages - started_inside,
        participant_counts=people[codes],
        last_dates=cols.dates[low + last_positions(threads, size)[codes]],
        start_dates=cols.dates[starts],
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
    replies, people = counts.reply_counts, counts.participant_counts
    first, second = (replies, people) if by == "replies" else (people, replies)
    # C-level ranking on the numbers; the thread ids only break ties among the chosen
    ranked = np.lexsort((counts.start_dates, -second, -first))
    if limit is not None and 0 <= limit < len(ranked):
        ranked = ranked[: _through_ties(ranked, limit, (first, second, counts.start_dates))]
    keys = {
        i: (-a, -b, start, counts.thread_ids[code])
        for i, a, b, start, code in zip(
            ranked.tolist(),
            first[ranked].tolist(),
            second[ranked].tolist(),
            counts.start_dates[ranked].tolist(),
            counts.codes[ranked].tolist(),
            strict=True,
        )
    }
    order = sorted(keys, key=keys.__getitem__)
    chosen = order if limit is None else order[:limit]
    rows = []
    for i in chosen:
        t = counts.thread_ids[int(counts.codes[i])]
        rows.append(
            ThreadStat(
                t,
                ref.subject if (ref := frame.threads.get(t)) else "",
                periods.iso(int(counts.start_dates[i])) or "",
                periods.iso(int(counts.last_dates[i])) or "",
                int(counts.message_counts[i]),
                int(replies[i]),
                int(people[i]),
            )
        )
    return rows


def _through_ties(ranked: Ints, limit: int, keys: tuple[Ints, ...]) -> int:
    """How many of `ranked` to keep: the first `limit` and those tied with the last of them."""
    if limit <= 0:
        return 0
    last = ranked[limit - 1]
    tied = np.ones(len(ranked) - limit, np.bool_)
    for key in keys:
        tied &= key[ranked[limit:]] == key[last]
    untied = np.flatnonzero(~tied)
    return limit + (int(untied[0]) if len(untied) else len(tied))


def _day_counts(frame: Frame) -> tuple[Index, Index, Index]:
    """The UTC days with posts in the window, their posts and their first position."""
    found, low, high = bounds(frame)
    days = found.columns.days[low:high]
    if not len(days):
        return days, days, days
    heads = np.flatnonzero(np.diff(days)) + 1
    heads = np.append(0, heads)
    counts = np.diff(heads, append=len(days))
    return days[heads], counts, heads + low


def weekdays(frame: Frame) -> list[WeekdayCount]:
    """Posts in the window by day of the week of their UTC date (1970-01-01 was a Thursday)."""
    found, low, high = bounds(frame)
    counts = np.bincount((found.columns.days[low:high] + 3) % 7, minlength=7).tolist()
    return [WeekdayCount(i, name, counts[i]) for i, name in enumerate(WEEKDAYS)]


def hours(frame: Frame) -> list[HourCount]:
    """Posts in the window by hour of the day, UTC (not the sender's local time)."""
    found, low, high = bounds(frame)
    counts = np.bincount(found.columns.hours[low:high], minlength=24).tolist()
    return [HourCount(h, counts[h]) for h in range(24)]


def busiest_days(frame: Frame, limit: int = 10) -> list[DayCount]:
    """The UTC calendar days with the most posts (ties: the earlier day first)."""
    cols = facts(frame).columns
    days, counts, heads = _day_counts(frame)
    rows = []
    for i in np.lexsort((days, -counts))[:limit].tolist():
        day, first, after = int(days[i]), int(heads[i]), int(heads[i] + counts[i])
        rows.append(
            DayCount(
                periods.day(day * 86400),
                int(counts[i]),
                _distinct_codes(cols.thread[first:after]),
                _distinct_codes(cols.person[first:after]),
            )
        )
    return rows
