"""One person's participation inside the window: activity per period, lists, threads started,
replies given and received, and with whom.

For the persons pages (`/persons/<key>`, facilitators only).  Posts are counted inside the
window; a started thread's replies are counted over the scope's whole history (as in
`analytics.responses`).  Definitions: docs/analytics.md.

Counted on the frame's columns (`analytics.facts`: issue 14, task DB4): the person's posts are
found by comparing one array, and neither the frame's `Post` tuples nor an index of every
person's and thread's posts is made for one page (0.8 and 0.4 s CPU at 1M).  A frame read
from its snapshot has no per-post lists in its columns: the person's lists are then counted in
SQL (`person_lists`), checked against the posts counted on the columns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from analytics import periods
from analytics.facts import Facts, PersonTotal, facts, period_column, ranked, window
from analytics.frame import Frame
from analytics.frame_posts import PostSource
from store import visibility


@dataclass(frozen=True, slots=True)
class PersonPeriod:
    period: str
    start: str
    messages: int
    threads_started: int
    replies_given: int


@dataclass(frozen=True, slots=True)
class ListActivity:
    list: str
    messages: int
    first: str
    last: str


@dataclass(frozen=True, slots=True)
class StartedThread:
    thread: str
    subject: str
    date: str
    messages: int  # posts in the thread (scope, whole history)
    replies: int  # of which by other people
    participants: int  # distinct persons, the starter included
    first_reply_seconds: int | None


@dataclass(frozen=True, slots=True)
class PersonActivity:
    person: str
    name: str
    messages: int
    threads: int  # distinct threads posted in
    threads_started: int
    replies_given: int  # posts replying to someone else
    replies_received: int  # posts by others replying to this person
    self_replies: int
    first: str | None  # first and last post inside the window
    last: str | None
    first_in_scope: str | None  # first post in the scope (any date): newcomer when in window
    periods: tuple[PersonPeriod, ...]
    lists: tuple[ListActivity, ...]
    started: tuple[StartedThread, ...]
    replied_to: tuple[PersonTotal, ...]  # whom they answer most
    replied_by: tuple[PersonTotal, ...]  # who answers them most


def person_activity(
    frame: Frame,
    person_id: int,
    period: str = "month",
    limit: int | None = 20,
    conn: sqlite3.Connection | None = None,
) -> PersonActivity:
    """`person_id`'s activity (all zeros when they have no post in the window).  `conn`: the
    store `frame` was loaded from, for the lists of a frame whose posts are not made (without
    it, or when its count differs, the posts are made and read)."""
    periods.check_period(period)
    found = facts(frame)
    cols = found.columns
    span = window(frame)
    code = _code(cols.person_ids, person_id)
    persons = cols.person_ids[cols.person]  # per post: its person's id
    mine = (
        np.flatnonzero(cols.person[span.start : span.stop] == code) + span.start
        if code is not None
        else np.zeros(0, np.int64)
    )
    parents = found.parent_persons
    answers = np.flatnonzero(parents[span.start : span.stop] == person_id) + span.start
    received = _in_order(persons[answers[persons[answers] != person_id]])
    mine_parents = parents[mine]
    given = _in_order(mine_parents[(mine_parents != -1) & (mine_parents != person_id)])
    threads = cols.thread[mine]
    started = mine[cols.start_pos[threads] == mine]
    ref = frame.person(person_id)
    dates = cols.dates
    first = None if code is None else int(dates[cols.first_pos[code]])
    first_day = periods.iso(int(dates[mine[0]])) if len(mine) else None
    last_day = periods.iso(int(dates[mine[-1]])) if len(mine) else None
    return PersonActivity(
        person=ref.key,
        name=ref.name,
        messages=len(mine),
        threads=len(np.unique(threads)),
        threads_started=len(started),
        replies_given=sum(n for _p, n in given),
        replies_received=sum(n for _p, n in received),
        self_replies=int(np.count_nonzero(mine_parents == person_id)),
        first=first_day,
        last=last_day,
        first_in_scope=periods.iso(first) if first is not None else None,
        periods=tuple(_periods(found, mine, started, mine_parents, person_id, period)),
        lists=tuple(_lists(frame, mine, conn, person_id)),
        started=tuple(_started(frame, found, started, persons, limit)),
        replied_to=tuple(ranked(frame, given, limit)),
        replied_by=tuple(ranked(frame, received, limit)),
    )


def _code(person_ids: NDArray[np.int64], person_id: int) -> int | None:
    """The person's code in the columns (`person_ids` ascending), None: no post in the frame."""
    at = int(np.searchsorted(person_ids, person_id))
    return at if at < len(person_ids) and int(person_ids[at]) == person_id else None


def _in_order(values: NDArray[np.int64]) -> list[tuple[int, int]]:
    """(value, count) in the order values first occur (a Counter's items)."""
    found, first, counts = np.unique(values, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return list(zip(found[order].tolist(), counts[order].tolist(), strict=True))


def _periods(
    found: Facts,
    mine: NDArray[np.int64],
    started: NDArray[np.int64],
    mine_parents: NDArray[np.int64],
    person_id: int,
    period: str,
) -> list[PersonPeriod]:
    """Every period from the person's first to last post inside the window."""
    if not len(mine):
        return []
    column = period_column(found, period)
    index = column[mine].astype(np.int64)
    low, high = int(index[0]), int(index[-1])
    size = high - low + 1
    messages = np.bincount(index - low, minlength=size).tolist()
    starts = np.bincount(column[started].astype(np.int64) - low, minlength=size).tolist()
    replies = (mine_parents != -1) & (mine_parents != person_id)
    given = np.bincount(index[replies] - low, minlength=size).tolist()
    return [
        PersonPeriod(
            periods.label(i, period),
            periods.first_day(i, period),
            messages[i - low],
            starts[i - low],
            given[i - low],
        )
        for i in range(low, high + 1)
    ]


def _lists(
    frame: Frame, mine: NDArray[np.int64], conn: sqlite3.Connection | None, person_id: int
) -> list[ListActivity]:
    """Per list of the scope (a cross-posted message counts on each of its lists)."""
    if not len(mine):
        return []
    rows: list[tuple[int, int, int, int]] | None = None
    if conn is not None and not cast(PostSource, frame.source).made:
        rows = person_lists(conn, frame, person_id, len(mine))
    if rows is None:
        rows = list(_lists_of_posts(frame, mine))
    found = [
        ListActivity(
            frame.list_names.get(i, str(i)), n, periods.iso(low) or "", periods.iso(high) or ""
        )
        for i, n, low, high in rows
    ]
    found.sort(key=lambda r: (-r.messages, r.list))
    return found


def _lists_of_posts(frame: Frame, mine: NDArray[np.int64]) -> Iterator[tuple[int, int, int, int]]:
    """(list, posts, first date, last date) of the posts at `mine`, lists in order of use."""
    posts = frame.posts
    count: dict[int, int] = {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i in mine.tolist():
        post = posts[i]
        for list_id in post.lists:
            count[list_id] = count.get(list_id, 0) + 1
            first.setdefault(list_id, post.date)
            last[list_id] = post.date
    for list_id, n in count.items():
        yield list_id, n, first[list_id], last[list_id]


def person_lists(
    conn: sqlite3.Connection, frame: Frame, person_id: int, expected: int
) -> list[tuple[int, int, int, int]] | None:
    """(list, posts, first date, last date) of `person_id`'s posts inside the frame's window on
    its scope's lists, as its frame holds them (dated, threaded, not removed); None when they
    are not `expected` posts (the store changed since the frame was loaded)."""
    scope = frame.scope
    viewer = visibility.for_reader(conn, include_private=scope.include_private)
    marks = ",".join("?" * len(scope.list_ids))
    # from the person's identities to their messages (messages_identity), each message's
    # lists looked up by its key (CROSS JOIN keeps that order: not every membership scanned;
    # `+ms.list`: its memberships read, not one probe per list of the scope, 3x quicker)
    where = (
        "WHERE i.person = ? AND m.identity = i.id AND m.date IS NOT NULL "
        f"AND m.thread_id IS NOT NULL AND {viewer.not_removed('m')}"
    )
    params: list[Any] = [person_id]
    for bound, op in ((scope.start_ts, ">="), (scope.end_ts, "<")):
        if bound is not None:
            where += f" AND m.date {op} ?"
            params.append(bound)
    messages: set[int] = set()
    count: dict[int, int] = {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for message, list_id, day in conn.execute(
        "SELECT m.id, ms.list, m.date FROM identities i CROSS JOIN messages m "
        f"CROSS JOIN memberships ms {where} AND ms.message = m.id AND +ms.list IN ({marks})",
        [*params, *scope.list_ids],
    ):
        messages.add(message)
        count[list_id] = count.get(list_id, 0) + 1
        first[list_id] = min(first.get(list_id, day), day)
        last[list_id] = max(last.get(list_id, day), day)
    if len(messages) != expected:
        return None
    return [(i, n, first[i], last[i]) for i, n in count.items()]


def _started(
    frame: Frame,
    found: Facts,
    started: NDArray[np.int64],
    persons: NDArray[np.int64],
    limit: int | None,
) -> list[StartedThread]:
    """The threads the person started inside the window, newest first (by date, then id:
    the posts' order, read backwards)."""
    chosen = started[::-1]
    if limit is not None:
        chosen = chosen[:limit]
    cols = found.columns
    codes = cols.thread[chosen]
    in_chosen = np.flatnonzero(np.isin(cols.thread, codes))  # their posts, whole history
    pairs = np.unique(np.stack([cols.thread[in_chosen], persons[in_chosen]]), axis=1)
    participants = dict(zip(*np.unique(pairs[0], return_counts=True), strict=True))
    own = persons[in_chosen] == persons[cols.start_pos[cols.thread[in_chosen]]]
    by_starter = dict(zip(*np.unique(cols.thread[in_chosen][own], return_counts=True), strict=True))
    dates = cols.dates
    rows = []
    for root, code in zip(chosen.tolist(), codes.tolist(), strict=True):
        thread = cols.thread_ids[code]
        size = int(cols.sizes[code])
        reply = int(cols.reply_pos[code])
        ref = frame.threads.get(thread)
        rows.append(
            StartedThread(
                thread,
                ref.subject if ref else "",
                periods.iso(int(dates[root])) or "",
                size,
                size - int(by_starter[code]),
                int(participants[code]),
                int(dates[reply]) - int(dates[root]) if reply >= 0 else None,
            )
        )
    return rows
