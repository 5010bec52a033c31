"""The posts of a frame as numpy columns (issue 14, task VX): one C-level pass a column, so the
facts and the /stats metrics cost no Python bytecode per post.

Threads and persons are small integer codes.  A thread's code is the rank of its first post
among the threads' first posts (codes in the order threads start, so `start_pos` ascends); a
person's code is the rank of their id (`person_ids` ascending).  Every per-thread and
per-person array is indexed by code.
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics.frame import Post, PostColumns

logger = logging.getLogger(__name__)

Ints = NDArray[np.int64]
Codes = NDArray[np.int32]
Flags = NDArray[np.bool_]
Hours = NDArray[np.int8]
Index = NDArray[np.signedinteger[Any]]  # any of those

_DATE, _THREAD, _PERSON = itemgetter(2), itemgetter(3), itemgetter(5)


@dataclass(frozen=True, slots=True)
class Columns:
    """Per post (parallel to `frame.posts`) and per thread / person code."""

    dates: Ints
    days: Codes  # UTC day number (date // 86400)
    months: Codes  # year * 12 + month - 1, UTC
    hours: Hours  # UTC hour of the day
    thread: Codes  # the post's thread code
    person: Codes  # the post's person code
    is_start: Flags  # the post is its thread's first post in the scope
    is_first: Flags  # ... its author's first post in the scope
    is_last: Flags  # ... its author's last post in the scope
    thread_ids: list[str]  # code -> thread id
    start_pos: Ints  # thread code -> position of its first post (ascending)
    reply_pos: Ints  # thread code -> its first post by someone else than the starter, or -1
    sizes: Ints  # thread code -> posts in the scope
    person_ids: Ints  # code -> person id (ascending)
    first_pos: Ints  # person code -> position of their first post in the scope
    last_pos: Ints  # person code -> ... of their last post

    @property
    def threads(self) -> int:
        return len(self.thread_ids)


def columns(posts: list[Post] | None, given: PostColumns | None = None) -> Columns:
    """The columns of `posts` (ordered by date, as in a frame); `given`: the posts' fields
    as arrays already (a frame read from its snapshot), not read back from the posts (which
    are not needed then: None)."""
    if given is None:
        if posts is None:
            raise ValueError("columns of no posts and no given columns")
        n = len(posts)
        dates = np.fromiter(map(_DATE, posts), np.int64, n)
        thread, thread_ids = _thread_codes(posts)
        person_of = np.fromiter(map(_PERSON, posts), np.int64, n)
    else:
        n = len(given.dates)
        dates, person_of = given.dates, given.persons
        thread, thread_ids = _table_codes(given.threads, given.thread_table)
    days = (dates // 86400).astype(np.int32)  # 4 bytes a post, not 8: up to the year 5.8M
    is_start = np.zeros(n, np.bool_)
    if n:  # a code is new where the running maximum of the codes grows
        top = np.maximum.accumulate(thread)
        is_start[0] = True
        is_start[1:] = top[1:] > top[:-1]
    start_pos = np.flatnonzero(is_start).astype(np.int64)
    person, person_ids = _person_codes(person_of)
    first_pos = first_positions(person, len(person_ids))
    last_pos = last_positions(person, len(person_ids))
    is_first = np.zeros(n, np.bool_)
    is_first[first_pos] = True
    is_last = np.zeros(n, np.bool_)
    is_last[last_pos] = True
    return Columns(
        dates=dates,
        days=days,
        months=_months(days),
        hours=(dates % 86400 // 3600).astype(np.int8),
        thread=thread,
        person=person,
        is_start=is_start,
        is_first=is_first,
        is_last=is_last,
        thread_ids=thread_ids,
        start_pos=start_pos,
        reply_pos=_first_replies(thread, person, start_pos),
        sizes=np.bincount(thread, minlength=len(thread_ids)).astype(np.int64),
        person_ids=person_ids,
        first_pos=first_pos,
        last_pos=last_pos,
    )


def _thread_codes(posts: list[Post]) -> tuple[Codes, list[str]]:
    """Per post its thread's code (codes in the order threads first appear), and the ids.

    A frame holds one string object per thread id (`analytics.frame` interns them), so the
    posts are grouped by the object's address (an integer sort, no string hashing a post);
    when two groups turn out to hold equal strings, by a dict of the strings instead."""
    n = len(posts)
    groups, count = _ranks(np.fromiter(map(id, map(_THREAD, posts)), np.int64, n))
    first = first_positions(groups, count)
    by_start = np.argsort(first)  # first positions are distinct
    thread_ids = list(map(_THREAD, map(posts.__getitem__, first[by_start].tolist())))
    if len(set(thread_ids)) == len(thread_ids):
        code_of = np.empty(count, np.int32)
        code_of[by_start] = np.arange(count, dtype=np.int32)
        return code_of[groups], thread_ids
    logger.debug("equal thread ids in distinct strings: thread codes from a dict")
    values = list(map(_THREAD, posts))
    distinct = list(dict.fromkeys(values))
    codes = dict(zip(distinct, range(len(distinct)), strict=True))
    return np.fromiter(map(codes.__getitem__, values), np.int32, n), distinct


def _table_codes(groups: Ints, table: list[str]) -> tuple[Codes, list[str]]:
    """`_thread_codes` of posts given as indexes into `table` (distinct ids; some may have
    no post, as in a frame without bots' posts)."""
    first = first_positions(groups.astype(np.int32), len(table))
    present = np.flatnonzero(first >= 0)
    by_start = present[np.argsort(first[present])]
    code_of = np.full(len(table), -1, np.int32)
    code_of[by_start] = np.arange(len(by_start), dtype=np.int32)
    return code_of[groups], list(map(table.__getitem__, by_start.tolist()))


def _person_codes(ids: Ints) -> tuple[Codes, Ints]:
    """Per post the rank of its person id among the distinct ids, and those ids (ascending)."""
    if len(ids) and 0 <= ids.min() and ids.max() < 4 * len(ids) + 4096:  # a table by id
        present = np.bincount(ids) > 0
        rank = (np.cumsum(present) - 1).astype(np.int32)
        return rank[ids], np.flatnonzero(present).astype(np.int64)
    groups, count = _ranks(ids)
    distinct = np.empty(count, np.int64)
    distinct[groups] = ids
    return groups, distinct


def distinct_ranks(values: Ints) -> tuple[Ints, Codes]:
    """The distinct `values` (ascending) and each value's rank among them: what
    `np.unique(values, return_inverse=True)` gives, by a table when the values are small
    non-negative integers (person ids: no sort), by one argsort otherwise."""
    ranks, distinct = _person_codes(values)
    return distinct, ranks


def _ranks(values: Ints) -> tuple[Codes, int]:
    """Per value the rank of its value among the distinct values, and how many there are."""
    order = np.argsort(values)
    ordered = values[order]
    new = np.ones(len(values), np.bool_)
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    ranks = np.empty(len(values), np.int32)
    ranks[order] = np.cumsum(new) - 1
    return ranks, int(np.count_nonzero(new))


def _months(days: Codes) -> Codes:
    """`year * 12 + month - 1` of UTC day numbers (the proleptic Gregorian calendar)."""
    since_1970 = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return since_1970 + 1970 * 12


def _first_replies(thread: Codes, person: Codes, start_pos: Ints) -> Ints:
    """Per thread code: the position of its first post by someone else than its starter."""
    other = np.flatnonzero(person != person[start_pos][thread])
    found = np.full(len(start_pos), len(thread), np.int64)
    np.minimum.at(found, thread[other], other)
    found[found == len(thread)] = -1
    return found


def distinct_pairs(first: Index, second: Index, width: int) -> Ints:
    """The distinct `(first, second)` pairs as `first * width + second` (second < width),
    ascending."""
    pairs = np.sort(first.astype(np.int64) * width + second)
    keep = np.ones(len(pairs), np.bool_)
    np.not_equal(pairs[1:], pairs[:-1], out=keep[1:])
    return pairs[keep]


def first_positions(codes: Codes, size: int) -> Ints:
    """Per code (`size` of them): the first position it has in `codes`, or -1."""
    found = np.full(size, len(codes), np.int64)
    np.minimum.at(found, codes, np.arange(len(codes)))
    found[found == len(codes)] = -1
    return found


def last_positions(codes: Codes, size: int) -> Ints:
    """Per code: the last position it has in `codes`, or -1."""
    found = np.full(size, -1, np.int64)
    np.maximum.at(found, codes, np.arange(len(codes)))
    return found


def positions_by(keys: Index, skip: int | None = None) -> tuple[list[int], list[array[int]]]:
    """The distinct `keys` (but `skip`) in the order they first appear, and the positions of
    each as an array of C ints, ascending (C-level: one sort, then a slice a key)."""
    positions = np.arange(len(keys), dtype=np.intc)
    if skip is not None:
        kept = keys != skip
        keys, positions = keys[kept], positions[kept]
    order = np.argsort(keys, kind="stable")
    ordered, grouped = keys[order], positions[order]
    new = np.ones(len(ordered), np.bool_)
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    heads = np.flatnonzero(new)
    tails = np.append(heads[1:], len(ordered))
    by_first = np.argsort(grouped[heads], kind="stable")  # in the order keys first appear
    heads, tails = heads[by_first], tails[by_first]
    size = np.dtype(np.intc).itemsize
    raw = grouped.tobytes()
    slices = map(slice, (heads * size).tolist(), (tails * size).tolist())
    return ordered[heads].tolist(), list(map(array, repeat("i"), map(raw.__getitem__, slices)))
