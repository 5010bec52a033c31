"""Do questions get answered, and how fast: the share of threads that got a reply, the median
and 90th percentile of the time to the first reply, and the threads nobody answered.

The threads considered are those *started inside the window* (their earliest post in the scope
is in it); whether and when they got a reply is looked up over the scope's whole history, so a
thread started on the window's last day and answered the next morning counts as answered.
Definitions: docs/analytics.md.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from analytics import periods
from analytics.frame import Frame, Post
from tests.analytics.legacy.facts import bounds, first_posts, hours, nearest_rank, period_indexes


@dataclass(frozen=True, slots=True)
class ThreadOutcome:
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
    """Every thread started inside the window, in the order of their first post."""
    found, low, high = bounds(frame)
    positions = found.start_positions
    first = bisect_left(positions, (low, ""))
    after = bisect_left(positions, (high, ""))
    return [
        ThreadOutcome(found.starts[t], found.first_replies.get(t), found.sizes[t], i)
        for i, t in positions[first:after]
    ]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summary(frame: Frame, found: list[ThreadOutcome] | None = None) -> ResponseSummary:
    """`found`: `outcomes(frame)` when the caller already has them."""
    found = outcomes(frame) if found is None else found
    firsts = first_posts(frame)
    delays = [o.reply.date - o.start.date for o in found if o.reply is not None]
    newcomer = [o for o in found if firsts[o.start.person] is o.start]
    median, p90 = nearest_rank(delays, 50), nearest_rank(delays, 90)
    return ResponseSummary(
        threads=len(found),
        answered=len(delays),
        share=_share(len(delays), len(found)),
        median_seconds=median,
        p90_seconds=p90,
        median_hours=hours(median),
        p90_hours=hours(p90),
        newcomer_threads=len(newcomer),
        newcomer_unanswered=sum(1 for o in newcomer if o.reply is None),
    )


def by_period(
    frame: Frame, period: str = "month", found: list[ThreadOutcome] | None = None
) -> list[ResponsePeriod]:
    """The same per period of the threads' start (every period of `periods.span`)."""
    periods.check_period(period)
    indexes = period_indexes(frame, period)
    started: dict[int, int] = defaultdict(int)
    delays: dict[int, list[int]] = defaultdict(list)
    for outcome in outcomes(frame) if found is None else found:
        index = indexes[outcome.position]
        started[index] += 1
        if outcome.reply is not None:
            delays[index].append(outcome.reply.date - outcome.start.date)
    return [
        ResponsePeriod(
            periods.label(i, period),
            periods.first_day(i, period),
            started[i],
            len(delays[i]),
            _share(len(delays[i]), started[i]),
            round(100 * len(delays[i]) / started[i], 1) if started[i] else None,
            hours(nearest_rank(delays[i], 50)),
            hours(nearest_rank(delays[i], 90)),
        )
        for i in periods.span(frame, period)
    ]


def unanswered(
    frame: Frame, limit: int | None = None, found: list[ThreadOutcome] | None = None
) -> list[Unanswered]:
    """Threads started inside the window that nobody else posted in, newest first."""
    firsts = first_posts(frame)
    found = [o for o in (outcomes(frame) if found is None else found) if o.reply is None]
    found.sort(key=lambda o: (-o.start.date, -o.start.id))
    if limit is not None:
        found = found[:limit]
    rows = []
    for outcome in found:
        post = outcome.start
        ref = frame.person(post.person)
        thread = frame.threads.get(post.thread)
        rows.append(
            Unanswered(
                post.thread,
                thread.subject if thread else "",
                ref.key,
                ref.name,
                periods.iso(post.date) or "",
                outcome.messages,
                firsts[post.person] is post,
            )
        )
    return rows
