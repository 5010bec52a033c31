"""Do questions get answered, and how fast: the share of threads that got a reply, the median
and 90th percentile of the time to the first reply, and the threads nobody answered.

The threads considered are those *started inside the window* (their earliest post in the scope
is in it); whether and when they got a reply is looked up over the scope's whole history, so a
thread started on the window's last day and answered the next morning counts as answered.
Every figure is counted on the facts' columns (`analytics.facts_columns`), for the web and the
CLI alike.  Definitions: docs/analytics.md.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple, cast

import numpy as np

from analytics import periods
from analytics.facts import bounds, facts, hours, period_column
from analytics.facts_columns import Ints
from analytics.frame import Frame, Post


class ThreadOutcome(NamedTuple):
    """A thread started inside the window (a named tuple: made by C code, one per thread)."""

    start: Post
    reply: Post | None  # the first post in the thread by someone other than the starter
    messages: int  # posts in the thread (scope, whole history)
    position: int  # of the start in frame.posts


@dataclass(frozen=True, slots=True)
class ResponseSummary:
    threads: int  # threads started inside the window
    answered: int
    share: float | None  # answered / threads, None without threads
    median_seconds: int | None  # time to first reply, nearest-rank, over answered threads
    p90_seconds: int | None
    median_hours: float | None
    p90_hours: float | None
    newcomer_threads: int  # threads whose first post is the starter's first post in the scope
    newcomer_unanswered: int


@dataclass(frozen=True, slots=True)
class ResponsePeriod:
    period: str
    start: str
    threads: int
    answered: int
    share: float | None
    percent: float | None  # the share in per cent (1 decimal), for charts
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True, slots=True)
class Unanswered:
    thread: str
    subject: str
    person: str  # the starter's key
    name: str
    date: str  # ISO date-time of the thread's first post
    messages: int  # posts in the thread (all by the starter)
    newcomer: bool  # the thread's first post is the starter's first post in the scope


def outcomes(frame: Frame) -> list[ThreadOutcome]:
    """Every thread started inside the window, in the order of their first post (the
    figures below are counted on the same columns, without making these)."""
    codes = _codes(frame)
    cols = facts(frame).columns
    first, after = codes.start, codes.stop
    starts, replies = cols.start_pos[first:after].tolist(), cols.reply_pos[first:after]
    posts = frame.posts
    with_none = [*posts, None]  # position -1: no reply
    rows = zip(
        map(posts.__getitem__, starts),
        map(with_none.__getitem__, replies.tolist()),
        cols.sizes[first:after].tolist(),
        starts,
        strict=True,
    )
    made = map(cast(Any, tuple.__new__), repeat(ThreadOutcome), rows)  # no Python per thread
    with _collector_off():  # its passes would cost 4x the making of the tuples
        return list(made)


@contextmanager
def _collector_off() -> Iterator[None]:
    """The cyclic garbage collector off while many objects without cycles are made."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _codes(frame: Frame) -> range:
    """The codes of the threads started inside the window (`analytics.facts_columns`)."""
    _, low, high = bounds(frame)
    first, after = np.searchsorted(facts(frame).columns.start_pos, (low, high)).tolist()
    return range(first, after)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _nearest(ordered: Ints, percent: float) -> int | None:
    """`facts.nearest_rank` of values already sorted."""
    if not len(ordered):
        return None
    return int(ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1])


def summary(frame: Frame) -> ResponseSummary:
    """The threads started inside the window: how many got a reply, and how fast."""
    codes = _codes(frame)
    cols = facts(frame).columns
    starts, replies = (
        cols.start_pos[codes.start : codes.stop],
        cols.reply_pos[codes.start : codes.stop],
    )
    answered = replies >= 0
    delays = np.sort(cols.dates[replies[answered]] - cols.dates[starts[answered]])
    newcomer = cols.is_first[starts]
    median, p90 = _nearest(delays, 50), _nearest(delays, 90)
    return ResponseSummary(
        threads=len(codes),
        answered=len(delays),
        share=_share(len(delays), len(codes)),
        median_seconds=median,
        p90_seconds=p90,
        median_hours=hours(median),
        p90_hours=hours(p90),
        newcomer_threads=int(np.count_nonzero(newcomer)),
        newcomer_unanswered=int(np.count_nonzero(newcomer & ~answered)),
    )


Row = tuple[int, int, int | None, int | None]  # threads, answered, median and p90 seconds


def by_period(frame: Frame, period: str = "month") -> list[ResponsePeriod]:
    """The same per period of the threads' start (every period of `periods.span`)."""
    periods.check_period(period)
    shown = periods.span(frame, period)
    table = _columns_by_period(frame, period, _codes(frame), shown)
    return [
        ResponsePeriod(
            periods.label(i, period),
            periods.first_day(i, period),
            started,
            answered,
            _share(answered, started),
            round(100 * answered / started, 1) if started else None,
            hours(median),
            hours(p90),
        )
        for i, (started, answered, median, p90) in zip(shown, table, strict=True)
    ]


def _columns_by_period(frame: Frame, period: str, codes: range, shown: range) -> list[Row]:
    found = facts(frame)
    cols = found.columns
    starts, replies = (
        cols.start_pos[codes.start : codes.stop],
        cols.reply_pos[codes.start : codes.stop],
    )
    indexes = period_column(found, period)[starts] - shown.start
    inside = (indexes >= 0) & (indexes < len(shown))
    counts = np.bincount(indexes[inside], minlength=len(shown)).tolist()
    answered = inside & (replies >= 0)
    delay = cols.dates[replies[answered]] - cols.dates[starts[answered]]
    order = np.lexsort((delay, indexes[answered]))  # by period, then delay
    grouped, ordered = indexes[answered][order], delay[order]
    edges = np.searchsorted(grouped, np.arange(len(shown) + 1)).tolist()
    rows: list[Row] = []
    for k, started in enumerate(counts):
        group = ordered[edges[k] : edges[k + 1]]
        rows.append((started, len(group), _nearest(group, 50), _nearest(group, 90)))
    return rows


def unanswered(frame: Frame, limit: int | None = None) -> list[Unanswered]:
    """Threads started inside the window that nobody else posted in, newest first."""
    codes = _codes(frame)
    cols = facts(frame).columns
    alone = np.flatnonzero(cols.reply_pos[codes.start : codes.stop] < 0) + codes.start
    starts = cols.start_pos[alone]
    # frame.posts are by (date, id): newest first, ties by the higher id, is the last first
    positions, alone = starts[::-1][:limit], alone[::-1][:limit]
    newcomer = cols.is_first[positions].tolist()
    sizes = cols.sizes[alone].tolist()
    picked = list(zip(map(frame.posts.__getitem__, positions.tolist()), sizes, strict=True))
    rows = []
    for (post, messages), is_new in zip(picked, newcomer, strict=True):
        ref = frame.person(post.person)
        thread = frame.threads.get(post.thread)
        rows.append(
            Unanswered(
                post.thread,
                thread.subject if thread else "",
                ref.key,
                ref.name,
                periods.iso(post.date) or "",
                messages,
                is_new,
            )
        )
    return rows
