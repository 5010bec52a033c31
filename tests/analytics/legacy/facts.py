"""Facts about a frame that every metric shares, computed once per loaded frame: where each
thread starts, each person's first and last post, each post's month, and the window as a slice
of the (date-ordered) posts.  Also the nearest-rank percentile and person rankings.

"First" and "last" are always taken over the scope's whole history (every post of the frame),
never only the window: a person whose first post in the scope falls inside the window is a
newcomer there, and a thread starts with its earliest post in the scope.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from analytics import periods
from analytics.frame import Frame, Post, held_posts, long_lived, on_drop, thaw

CACHE_SIZE = 8
_K = TypeVar("_K", int, str)


@dataclass(frozen=True, slots=True)
class PersonTotal:
    """A person and a number (replies, messages, ...), for rankings."""

    person: str  # the person's key (/persons/<key>)
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Facts:
    """Window-independent facts of a frame's posts.  The lists run parallel to `frame.posts`
    (same order), so a window is a slice of each and counting is done by C-level Counters."""

    starts: dict[str, Post]  # thread -> its earliest post in the scope
    start_positions: list[tuple[int, str]]  # (position of a thread's first post, thread), sorted
    firsts: dict[int, Post]  # person -> their first post in the scope
    lasts: dict[int, Post]  # person -> their last post in the scope
    first_replies: dict[str, Post]  # thread -> its first post by someone else than the starter
    sizes: dict[str, int]  # thread -> posts in the scope
    dates: list[int]
    days: list[int]  # UTC day number (date // 86400)
    hours: list[int]  # UTC hour of the day
    months: list[int]  # year * 12 + month - 1, UTC
    threads: list[str]
    persons: list[int]
    parents: list[int | None]  # the person replied to
    # flags, one byte a post (1: yes), for compress and sum (a list of bools: 8 bytes a post)
    is_start: bytes  # the post is its thread's first post in the scope
    is_first: bytes  # ... its author's first post in the scope
    is_last: bytes  # ... its author's last post in the scope
    by_period: dict[str, list[int]]  # period -> per post: its period index (filled on demand)
    indexes: list[PostIndex] = field(default_factory=list)  # `post_index`, made on demand


@dataclass(frozen=True, slots=True)
class PostIndex:
    """Positions in `frame.posts` (ascending, so in date order) of each person's posts, of
    the posts replying to each person, and of each thread's posts: one person's page reads
    their posts without a pass over the frame.  Arrays of C ints (4 bytes a position, where
    lists held a pointer and an int object for each)."""

    by_person: dict[int, array[int]]
    by_parent_person: dict[int, array[int]]
    by_thread: dict[str, array[int]]


_CACHE: OrderedDict[int, tuple[list[Post], Facts]] = OrderedDict()
_LOCK = threading.Lock()


def _compute(posts: list[Post]) -> Facts:
    starts: dict[str, Post] = {}
    firsts: dict[int, Post] = {}
    lasts: dict[int, Post] = {}
    first_replies: dict[str, Post] = {}
    sizes: dict[str, int] = {}
    days: list[int] = []
    months: list[int] = []
    day_int: dict[int, int] = {}
    month_of: dict[int, int] = {}  # day -> month: one int object a day, not one a post
    for post in posts:
        start = starts.setdefault(post.thread, post)
        firsts.setdefault(post.person, post)
        lasts[post.person] = post
        sizes[post.thread] = sizes.get(post.thread, 0) + 1
        if post.person != start.person and post.thread not in first_replies:
            first_replies[post.thread] = post
        day = post.date // 86400
        month = month_of.get(day)
        if month is None:
            tm = time.gmtime(day * 86400)  # a UTC day lies in one month
            month = month_of[day] = tm.tm_year * 12 + tm.tm_mon - 1
            day_int[day] = day
        days.append(day_int[day])
        months.append(month)
    dates = [p.date for p in posts]
    return Facts(
        starts=starts,
        start_positions=[(i, p.thread) for i, p in enumerate(posts) if starts[p.thread] is p],
        firsts=firsts,
        lasts=lasts,
        first_replies=first_replies,
        sizes=sizes,
        dates=dates,
        days=days,
        hours=[d % 86400 // 3600 for d in dates],
        months=months,
        threads=[p.thread for p in posts],
        persons=[p.person for p in posts],
        parents=[p.parent_person for p in posts],
        is_start=bytes(starts[p.thread] is p for p in posts),
        is_first=bytes(firsts[p.person] is p for p in posts),
        is_last=bytes(lasts[p.person] is p for p in posts),
        by_period={"month": months},
    )


def facts(frame: Frame) -> Facts:
    """The shared facts of `frame`'s posts (cached per loaded frame: `load_frame` hands out the
    same post list for every window of a scope until the store changes)."""
    key = id(frame.posts)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is frame.posts:
            _CACHE.move_to_end(key)
            return hit[1]
    with long_lived():  # out of the collector's passes (`analytics.frame.long_lived`)
        found = _compute(frame.posts)
    with _LOCK:
        _CACHE[key] = (frame.posts, found)  # holding the list keeps its id from being reused
        dropped = len(_CACHE) > CACHE_SIZE
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    if dropped:
        thaw()
    return found


def _prune() -> None:
    """Forget the facts of post lists that no cached frame holds any more (told by
    `analytics.frame` when it drops frames): they would keep the posts alive."""
    held = {id(posts) for posts in held_posts()}
    with _LOCK:
        for key in [key for key in _CACHE if key not in held]:
            del _CACHE[key]


on_drop(_prune)


def clear_cache() -> None:
    """Forget every computed frame's facts (benchmarks measuring cold requests)."""
    with _LOCK:
        _CACHE.clear()
    thaw()


def post_index(frame: Frame) -> PostIndex:
    """The frame's `PostIndex` (made once per loaded frame, kept with its facts)."""
    found = facts(frame)
    if found.indexes:
        return found.indexes[0]
    by_person: dict[int, array[int]] = {}
    by_parent: dict[int, array[int]] = {}
    by_thread: dict[str, array[int]] = {}
    with long_lived():
        for i, post in enumerate(frame.posts):
            _positions(by_person, post.person).append(i)
            if post.parent_person is not None:
                _positions(by_parent, post.parent_person).append(i)
            _positions(by_thread, post.thread).append(i)
        index = PostIndex(by_person, by_parent, by_thread)
    found.indexes[:] = [index]
    return index


def _positions(index: dict[_K, array[int]], key: _K) -> array[int]:
    found = index.get(key)
    if found is None:
        found = index[key] = array("i")
    return found


def in_span(positions: Sequence[int], span: range) -> Sequence[int]:
    """The `positions` (ascending) inside `span` (a window of `window`)."""
    return positions[bisect_left(positions, span.start) : bisect_left(positions, span.stop)]


def period_indexes(frame: Frame, period: str) -> list[int]:
    """Per post (same order as frame.posts): the index of its month, quarter or year."""
    found = facts(frame)
    indexes = found.by_period.get(period)
    if indexes is None:
        periods.check_period(period)
        of_month = {m: periods.from_month(m, period) for m in set(found.months)}
        indexes = [of_month[m] for m in found.months]  # one int object a period
        found.by_period[period] = indexes
    return indexes


def window(frame: Frame) -> range:
    """The indexes of the posts inside the window (posts are ordered by date)."""
    dates = facts(frame).dates
    start, end = frame.scope.start_ts, frame.scope.end_ts
    low = 0 if start is None else bisect_left(dates, start)
    high = len(dates) if end is None else bisect_left(dates, end)
    return range(low, max(low, high))


def bounds(frame: Frame) -> tuple[Facts, int, int]:
    """The frame's facts and the window as `[low, high)` positions in its posts."""
    span = window(frame)
    return facts(frame), span.start, span.stop


def inside(frame: Frame) -> Callable[[int], bool]:
    """A test for "this timestamp is inside the window" (bounds computed once)."""
    start, end = frame.scope.start_ts, frame.scope.end_ts
    low = start if start is not None else -math.inf
    high = end if end is not None else math.inf
    return lambda ts: low <= ts < high


def in_window(frame: Frame) -> list[Post]:
    span = window(frame)
    return frame.posts[span.start : span.stop]


def thread_starts(frame: Frame) -> dict[str, Post]:
    return facts(frame).starts


def first_posts(frame: Frame) -> dict[int, Post]:
    return facts(frame).firsts


def last_posts(frame: Frame) -> dict[int, Post]:
    return facts(frame).lasts


def nearest_rank(values: Sequence[int], percent: float) -> int | None:
    """The nearest-rank percentile: the smallest value such that at least `percent` % of the
    values are at or below it (`sorted(values)[ceil(p/100 * n) - 1]`).  Always one of the
    values; the median (p50) of an even count is the lower middle value.  None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def person_order(frame: Frame, person_id: int) -> tuple[str, str]:
    """Tie-break for rankings: by name (case-folded), then key."""
    ref = frame.person(person_id)
    return ref.name.casefold(), ref.key


def ranked(frame: Frame, counts: Iterable[tuple[int, int]], limit: int | None) -> list[PersonTotal]:
    """(person id, count) pairs as PersonTotals, largest first (ties: by name, then key)."""
    totals = sorted(
        ((pid, n) for pid, n in counts if n > 0),
        key=lambda item: (-item[1], person_order(frame, item[0])),
    )
    chosen = totals if limit is None else totals[:limit]
    return [PersonTotal(frame.person(p).key, frame.person(p).name, n) for p, n in chosen]
