"""One person's activity as it was before issue 14's task DB4 (Python over the frame's posts
through the per-frame post index, commit 3917c4e): the reference the columns of
`analytics.person` are compared with (tests/analytics/test_person_reference.py).  Kept verbatim
apart from its imports; not used by the application."""

from __future__ import annotations

from collections import Counter

from analytics import periods
from analytics.facts import facts, in_span, post_index, ranked, thread_starts, window
from analytics.frame import Frame, Post
from analytics.person import ListActivity, PersonActivity, PersonPeriod, StartedThread


def first_posts(frame: Frame) -> dict[int, Post]:  # analytics.facts' until 52e78fa
    return facts(frame).firsts


def person_activity(
    frame: Frame, person_id: int, period: str = "month", limit: int | None = 20
) -> PersonActivity:
    """`person_id`'s activity (all zeros when they have no post in the window)."""
    periods.check_period(period)
    starts = thread_starts(frame)
    index, span, posts = post_index(frame), window(frame), frame.posts
    mine = [posts[i] for i in in_span(index.by_person.get(person_id, []), span)]
    received = Counter(
        posts[i].person
        for i in in_span(index.by_parent_person.get(person_id, []), span)
        if posts[i].person != person_id
    )
    given = Counter(
        p.parent_person
        for p in mine
        if p.parent_person is not None and p.parent_person != person_id
    )
    started = [p for p in mine if starts[p.thread] is p]
    ref = frame.person(person_id)
    first = first_posts(frame).get(person_id)
    return PersonActivity(
        person=ref.key,
        name=ref.name,
        messages=len(mine),
        threads=len({p.thread for p in mine}),
        threads_started=len(started),
        replies_given=sum(given.values()),
        replies_received=sum(received.values()),
        self_replies=sum(1 for p in mine if p.parent_person == person_id),
        first=periods.iso(mine[0].date) if mine else None,
        last=periods.iso(mine[-1].date) if mine else None,
        first_in_scope=periods.iso(first.date) if first else None,
        periods=tuple(_periods(mine, starts, person_id, period)),
        lists=tuple(_lists(frame, mine)),
        started=tuple(_started(frame, started, limit)),
        replied_to=tuple(ranked(frame, given.items(), limit)),
        replied_by=tuple(ranked(frame, received.items(), limit)),
    )


def _periods(
    mine: list[Post], starts: dict[str, Post], person_id: int, period: str
) -> list[PersonPeriod]:
    """Every period from the person's first to last post inside the window."""
    if not mine:
        return []
    messages: Counter[int] = Counter()
    started: Counter[int] = Counter()
    given: Counter[int] = Counter()
    for post in mine:
        index = periods.index_of(post.date, period)
        messages[index] += 1
        started[index] += starts[post.thread] is post
        given[index] += post.parent_person is not None and post.parent_person != person_id
    low, high = periods.index_of(mine[0].date, period), periods.index_of(mine[-1].date, period)
    return [
        PersonPeriod(
            periods.label(i, period),
            periods.first_day(i, period),
            messages[i],
            started[i],
            given[i],
        )
        for i in range(low, high + 1)
    ]


def _lists(frame: Frame, mine: list[Post]) -> list[ListActivity]:
    """Per list of the scope (a cross-posted message counts on each of its lists)."""
    count: Counter[int] = Counter()
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for post in mine:
        for list_id in post.lists:
            count[list_id] += 1
            first.setdefault(list_id, post.date)
            last[list_id] = post.date
    rows = [
        ListActivity(
            frame.list_names.get(i, str(i)),
            n,
            periods.iso(first[i]) or "",
            periods.iso(last[i]) or "",
        )
        for i, n in count.items()
    ]
    rows.sort(key=lambda r: (-r.messages, r.list))
    return rows


def _started(frame: Frame, started: list[Post], limit: int | None) -> list[StartedThread]:
    """The threads the person started inside the window, newest first."""
    chosen = sorted(started, key=lambda p: (-p.date, -p.id))
    if limit is not None:
        chosen = chosen[:limit]
    by_thread, posts = post_index(frame).by_thread, frame.posts
    found = []
    for root in chosen:
        replies = 0
        people = set()
        first_reply = None
        for i in by_thread[root.thread]:  # the thread's posts in the scope, whole history
            post = posts[i]
            people.add(post.person)
            if post.person != root.person:
                replies += 1
                if first_reply is None:
                    first_reply = post.date - root.date
        ref = frame.threads.get(root.thread)
        found.append(
            StartedThread(
                root.thread,
                ref.subject if ref else "",
                periods.iso(root.date) or "",
                len(by_thread[root.thread]),
                replies,
                len(people),
                first_reply,
            )
        )
    return found
