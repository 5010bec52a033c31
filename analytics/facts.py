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
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import is_, itemgetter
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from analytics import periods
from analytics.facts_columns import Columns, columns, positions_by
from analytics.frame import Frame, Post, PostColumns, held_posts, long_lived, on_drop, thaw
from analytics.frame_posts import PostSource

CACHE_SIZE = 8
_V = TypeVar("_V")
_DATE, _THREAD, _PERSON, _PARENT = itemgetter(2), itemgetter(3), itemgetter(5), itemgetter(6)


@dataclass(frozen=True, slots=True)
class PersonTotal:
    """A person and a number (replies, messages, ...), for rankings."""

    person: str  # the person's key (/persons/<key>)
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Facts:
    """Window-independent facts of a frame's posts.  `columns` holds them as numpy arrays (the
    metrics of `analytics.activity` and `analytics.responses` read those); the Python views
    below (lists parallel to `frame.posts`, dicts by thread and person) are made from them
    the first time they are read, for the metrics that count with Counters."""

    source: PostSource | list[Post]  # the frame's posts (made when a view reads them)
    columns: Columns
    by_period: dict[str, list[int]]  # period -> per post: its period index (filled on demand)
    views: dict[str, Any] = field(default_factory=dict)  # the properties below, once made
    indexes: list[PostIndex] = field(default_factory=list)  # `post_index`, made on demand

    @property
    def posts(self) -> list[Post]:
        source = self.source
        return source if isinstance(source, list) else source.get()

    def _view(self, name: str, make: Callable[[], _V]) -> _V:
        found = self.views.get(name)
        if found is None:  # two threads may both make it: the first one stored is kept
            with long_lived():
                found = self.views.setdefault(name, make())
        return cast(_V, found)

    @property
    def starts(self) -> dict[str, Post]:
        """thread -> its earliest post in the scope (in the order threads start)"""
        cols = self.columns
        return self._view(
            "starts", lambda: dict(zip(cols.thread_ids, self._at(cols.start_pos), strict=True))
        )

    @property
    def start_positions(self) -> list[tuple[int, str]]:
        """(position of a thread's first post, thread), sorted"""
        cols = self.columns
        return self._view(
            "start_positions",
            lambda: list(zip(cols.start_pos.tolist(), cols.thread_ids, strict=True)),
        )

    @property
    def firsts(self) -> dict[int, Post]:
        """person -> their first post in the scope (in the order persons first post)"""
        return self._view("firsts", lambda: self._by_person(self.columns.first_pos))

    @property
    def lasts(self) -> dict[int, Post]:
        """person -> their last post in the scope (in the order persons first post)"""
        return self._view("lasts", lambda: self._by_person(self.columns.last_pos))

    @property
    def first_replies(self) -> dict[str, Post]:
        """thread -> its first post by someone else than the starter (in the replies' order)"""
        return self._view("first_replies", self._first_replies)

    @property
    def sizes(self) -> dict[str, int]:
        """thread -> posts in the scope"""
        cols = self.columns
        return self._view(
            "sizes", lambda: dict(zip(cols.thread_ids, cols.sizes.tolist(), strict=True))
        )

    @property
    def dates(self) -> list[int]:
        return self._view("dates", lambda: list(map(_DATE, self.posts)))

    @property
    def days(self) -> list[int]:
        """UTC day number (date // 86400)"""
        return self._view("days", lambda: _runs(self.columns.days))

    @property
    def hours(self) -> list[int]:
        """UTC hour of the day"""
        return self._view("hours", lambda: self.columns.hours.tolist())

    @property
    def months(self) -> list[int]:
        """year * 12 + month - 1, UTC"""
        found = self.by_period.get("month")
        if found is None:
            with long_lived():
                found = self.by_period.setdefault("month", _runs(self.columns.months))
        return found

    @property
    def threads(self) -> list[str]:
        return self._view("threads", lambda: list(map(_THREAD, self.posts)))

    @property
    def persons(self) -> list[int]:
        return self._view("persons", lambda: list(map(_PERSON, self.posts)))

    @property
    def parents(self) -> list[int | None]:
        """the person replied to"""
        return self._view("parents", lambda: list(map(_PARENT, self.posts)))

    @property
    def parent_persons(self) -> NDArray[np.int64]:
        """the person replied to, as an array (-1: not known)"""
        return self._view("parent_persons", self._parent_persons)

    # flags, one byte a post (1: yes), for compress and sum (a list of bools: 8 bytes a post)
    @property
    def is_start(self) -> bytes:
        """the post is its thread's first post in the scope"""
        return self._view("is_start", lambda: self.columns.is_start.tobytes())

    @property
    def is_first(self) -> bytes:
        """... its author's first post in the scope"""
        return self._view("is_first", lambda: self.columns.is_first.tobytes())

    @property
    def is_last(self) -> bytes:
        """... its author's last post in the scope"""
        return self._view("is_last", lambda: self.columns.is_last.tobytes())

    def _at(self, positions: NDArray[np.int64]) -> Iterator[Post]:
        return map(self.posts.__getitem__, positions.tolist())

    def _by_person(self, positions: NDArray[np.int64]) -> dict[int, Post]:
        cols = self.columns
        order = np.argsort(cols.first_pos, kind="stable")  # persons in order of first post
        return dict(zip(cols.person_ids[order].tolist(), self._at(positions[order]), strict=True))

    def _parent_persons(self) -> NDArray[np.int64]:
        parents = self.parents
        missing = np.fromiter(map(is_, parents, repeat(None)), np.bool_, len(parents))
        found = np.array(parents, dtype=object)
        found[missing] = -1
        return found.astype(np.int64)

    def _first_replies(self) -> dict[str, Post]:
        cols = self.columns
        answered = np.flatnonzero(cols.reply_pos >= 0)
        answered = answered[np.argsort(cols.reply_pos[answered], kind="stable")]
        threads = map(cols.thread_ids.__getitem__, answered.tolist())
        return dict(zip(threads, self._at(cols.reply_pos[answered]), strict=True))


def _runs(values: NDArray[np.integer[Any]]) -> list[int]:
    """`values` (ascending) as a list holding one int object per distinct value."""
    if not len(values):
        return []
    heads = np.flatnonzero(np.diff(values)) + 1
    counts = np.diff(heads, prepend=0, append=len(values)).tolist()
    found: list[int] = []
    for value, count in zip(values[np.append(0, heads)].tolist(), counts, strict=True):
        found += [value] * count
    return found


@dataclass(frozen=True, slots=True)
class PostIndex:
    """Positions in `frame.posts` (ascending, so in date order) of each person's posts, of
    the posts replying to each person, and of each thread's posts: one person's page reads
    their posts without a pass over the frame.  Arrays of C ints (4 bytes a position, where
    lists held a pointer and an int object for each)."""

    by_person: dict[int, array[int]]
    by_parent_person: dict[int, array[int]]
    by_thread: dict[str, array[int]]


_CACHE: OrderedDict[int, tuple[PostSource, Facts]] = OrderedDict()
_LOCK = threading.Lock()


def _compute(source: PostSource, given: PostColumns | None = None) -> Facts:
    """`given`: the posts' fields as arrays (`Frame.columns`: a frame from its snapshot; its
    posts are not made for the columns)."""
    if given is None:
        return Facts(source, columns(source.get()), {})
    made = columns(None, given)
    return Facts(source, made, {}, {"parent_persons": given.parent_persons})


def facts(frame: Frame) -> Facts:
    """The shared facts of `frame`'s posts (cached per loaded frame: `load_frame` hands out the
    same `PostSource` for every window of a scope until the store changes)."""
    source = cast(PostSource, frame.source)
    key = id(source)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is source:
            _CACHE.move_to_end(key)
            return hit[1]
    with long_lived():  # out of the collector's passes (`analytics.frame.long_lived`)
        found = _compute(source, frame.columns)
    with _LOCK:
        _CACHE[key] = (source, found)  # holding the source keeps its id from being reused
        dropped = len(_CACHE) > CACHE_SIZE
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    if dropped:
        thaw()
    return found


def _prune() -> None:
    """Forget the facts of posts that no cached frame holds any more (told by
    `analytics.frame` when it drops frames): they would keep the posts alive."""
    held = {id(source) for source in held_posts()}
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
    cols = found.columns
    with long_lived():
        persons, of_person = positions_by(cols.person)
        parents, of_parent = positions_by(found.parent_persons, skip=-1)
        threads, of_thread = positions_by(cols.thread)
        index = PostIndex(
            dict(zip(cols.person_ids[persons].tolist(), of_person, strict=True)),
            dict(zip(parents, of_parent, strict=True)),
            dict(zip(map(cols.thread_ids.__getitem__, threads), of_thread, strict=True)),
        )
    found.indexes[:] = [index]
    return index


def in_span(positions: Sequence[int], span: range) -> Sequence[int]:
    """The `positions` (ascending) inside `span` (a window of `window`)."""
    return positions[bisect_left(positions, span.start) : bisect_left(positions, span.stop)]


def period_indexes(frame: Frame, period: str) -> list[int]:
    """Per post (same order as frame.posts): the index of its month, quarter or year."""
    found = facts(frame)
    indexes = found.by_period.get(period)
    if indexes is None:
        periods.check_period(period)
        if period == "month":
            return found.months
        with long_lived():  # one int object a period
            indexes = found.by_period.setdefault(period, _runs(period_column(found, period)))
    return indexes


def period_column(found: Facts, period: str) -> NDArray[np.int32]:
    """Per post: the index of its month, quarter or year (`periods.from_month`), as an array."""
    months = found.columns.months
    if period == "month":
        return months
    years, parts = np.divmod(months, 12)
    return years * 4 + parts // 3 if periods.check_period(period) == "quarter" else years


def window(frame: Frame) -> range:
    """The indexes of the posts inside the window (posts are ordered by date)."""
    dates = facts(frame).columns.dates
    start, end = frame.scope.start_ts, frame.scope.end_ts
    low = 0 if start is None else int(np.searchsorted(dates, start))
    high = len(dates) if end is None else int(np.searchsorted(dates, end))
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
