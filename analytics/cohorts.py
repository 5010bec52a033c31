"""Who arrives, who stays, who leaves: newcomers, returning and lapsed participants per period,
and the retention of first-post cohorts.

A person's first and last post are taken over the scope's whole history; the window decides
which periods are shown and which posts count as activity.  Definitions: docs/analytics.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics import periods
from analytics.facts import Facts, bounds, facts, period_column
from analytics.facts_columns import Columns, distinct_pairs, last_positions
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
    cols = found.columns
    indexes = period_column(found, period)[low:high]
    # newcomers: the period holds the person's first post in the scope (inside the window,
    # hence in the period as the window clips it); lapsed: their last post; active: the
    # distinct (period, person) pairs, counted on the columns
    width = max(len(cols.person_ids), 1)
    active = _counts(distinct_pairs(indexes, cols.person[low:high], width) // width)
    newcomers = _counts(indexes[cols.is_first[low:high]])
    lapsed = _counts(indexes[cols.is_last[low:high]])
    dates = frame.date_range()  # the last post's date (its posts not made for it)
    horizon = dates[1] if dates else 0
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


def _counts(values: NDArray[np.int64] | NDArray[np.int32]) -> Counter[int]:
    """How often each value occurs (a Counter: 0 for the others)."""
    found, counts = np.unique(values, return_counts=True)
    return Counter(dict(zip(found.tolist(), counts.tolist(), strict=True)))


def retention(frame: Frame, period: str = "month", horizon: int = HORIZON) -> Retention:
    """For each cohort (persons whose first post in the scope falls in a period inside the
    window), how many posted again 1..`horizon` periods later, inside the window.  Cells past
    the window's last period are None (not observed yet)."""
    periods.check_period(period)
    if horizon < 0:
        raise ValueError("horizon must not be negative")
    shown = periods.span(frame, period)
    found, low, high = bounds(frame)
    seen = _seen(found, period_column(found, period)[low:high], low, high, horizon)
    rows = []
    last = shown[-1] if shown else 0
    for cohort in sorted(seen):
        cells = tuple(seen[cohort][k] if cohort + k <= last else None for k in range(horizon + 1))
        rows.append(RetentionRow(periods.label(cohort, period), seen[cohort][0], cells))
    return Retention(period, horizon, tuple(rows), _curve(rows, horizon))


def _seen(
    found: Facts, indexes: NDArray[np.int32], low: int, high: int, horizon: int
) -> dict[int, Counter[int]]:
    """cohort -> offset (periods after the first post, up to `horizon`) -> persons posting
    then, inside the window; a cohort is the period of a first post inside the window.
    Counted on the columns: the distinct (period, person) pairs, each person's cohort."""
    cols = found.columns
    width = max(len(cols.person_ids), 1)
    persons = cols.person[low:high]
    firsts = cols.is_first[low:high]
    cohort_of = np.full(width, -1, np.int64)
    cohort_of[persons[firsts]] = indexes[firsts]
    pairs = distinct_pairs(indexes, persons, width)
    cohort = cohort_of[pairs % width]
    offset = pairs // width - cohort
    kept = (cohort >= 0) & (offset <= horizon)
    cohort, offset = cohort[kept], offset[kept]
    seen: dict[int, Counter[int]] = defaultdict(Counter)
    if not len(cohort):
        return seen
    base = int(cohort.min())
    cells, counts = np.unique((cohort - base) * (horizon + 1) + offset, return_counts=True)
    for cell, n in zip(cells.tolist(), counts.tolist(), strict=True):
        seen[base + cell // (horizon + 1)][cell % (horizon + 1)] = n
    return seen


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


def newcomer_count(frame: Frame) -> int:
    """How many persons `newcomers` lists without a limit (their first post in the scope is
    inside the window), without making their rows: the first posts inside the window."""
    found, low, high = bounds(frame)
    return int(np.count_nonzero(found.columns.is_first[low:high]))


def newcomers(frame: Frame, limit: int | None = None) -> list[Newcomer]:
    """Persons whose first post in the scope is inside the window, newest first (by date,
    then by post id: the frame's order, so the last first posts first).  Read from the
    facts' columns: no `Post` is made (a frame read from its snapshot has none)."""
    found, low, high = bounds(frame)
    cols = found.columns  # posts inside the window per person, counted on the codes
    window = np.bincount(cols.person[low:high], minlength=len(cols.person_ids))
    at = (np.flatnonzero(cols.is_first[low:high]) + low)[::-1]
    if limit is not None:
        at = at[:limit]
    codes = cols.person[at]
    fields = zip(
        cols.person_ids[codes].tolist(),
        cols.dates[at].tolist(),
        cols.thread[at].tolist(),
        cols.is_start[at].tolist(),
        _answered_at(cols, codes.astype(np.int64)).tolist(),
        window[codes].tolist(),
        strict=True,
    )
    rows = []
    for pid, date, thread_code, started, answered, messages in fields:
        ref = frame.person(pid)
        thread_id = cols.thread_ids[thread_code]
        thread = frame.threads.get(thread_id)
        subject = thread.subject if thread else ""
        iso = periods.iso(date) or ""
        rows.append(
            Newcomer(ref.key, ref.name, iso, thread_id, subject, started, answered, messages)
        )
    return rows


def _answered_after(frame: Frame, chosen: list[Post]) -> set[str]:
    """Of the first posts `chosen` (`facts.firsts`), the keys of those after which another
    person posted in the same thread (`_answered_at`)."""
    if not chosen:
        return set()
    cols = facts(frame).columns
    code_of = dict(zip(cols.person_ids.tolist(), range(len(cols.person_ids)), strict=True))
    codes = np.array([code_of[post.person] for post in chosen], np.int64)
    flags = _answered_at(cols, codes).tolist()
    return {post.key for post, flag in zip(chosen, flags, strict=True) if flag}


def _answered_at(cols: Columns, codes: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Per person code: whether another person posted after their first post in the scope,
    in its thread.

    Post i of person P in thread T is answered when T's last post is by someone else than P
    and comes after i, or when it is P's and T's last post by someone else comes after i:
    per thread, its last post, that post's author and the last post of anyone else, from the
    facts' columns (a walk over every later post before: 1.4-2.2 s at 1M)."""
    if not len(codes):
        return np.zeros(0, np.bool_)
    thread = cols.thread
    person = cols.person.astype(np.int64)
    last = last_positions(thread, cols.threads)
    last_author = person[last]  # per thread code
    others = np.flatnonzero(person != last_author[thread])  # posts not by their thread's last
    last_other = np.full(cols.threads, -1, np.int64)
    found = last_positions(thread[others], cols.threads)
    last_other[found >= 0] = others[found[found >= 0]]
    at = cols.first_pos[codes]
    t = thread[at]
    after = np.where(last_author[t] != codes, last[t], last_other[t])
    answered: NDArray[np.bool_] = after > at
    return answered
