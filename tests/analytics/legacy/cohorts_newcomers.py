"""The newcomers table of /stats/people as it was at 3917c4e (issue 14 task PN: each
newcomer's first post read from the facts' `firsts`, a `Post` a person, which makes the
frame's posts): the reference task DB3's `analytics.cohorts.newcomers` and `newcomer_count`
(on the columns, no `Post` made) are compared with (tests/analytics/test_newcomers_columns.py),
and the posters of /stats/people (`posters`).  Kept verbatim apart from its docstring and
imports; not used by the application."""

from __future__ import annotations

import numpy as np

from analytics import activity, periods
from analytics.cohorts import Newcomer
from analytics.facts import bounds, facts, inside
from analytics.facts_columns import last_positions
from analytics.frame import Frame, Post


def newcomers(frame: Frame, limit: int | None = None) -> list[Newcomer]:
    """Persons whose first post in the scope is inside the window, newest first."""
    found = facts(frame)
    within = inside(frame)
    _, low, high = bounds(frame)
    cols = found.columns  # posts inside the window per person, counted on the codes
    window = np.bincount(cols.person[low:high], minlength=len(cols.person_ids))
    counts = dict(zip(cols.person_ids.tolist(), window.tolist(), strict=True))
    chosen = sorted(
        (p for p in found.firsts.values() if within(p.date)),
        key=lambda p: (-p.date, -p.id),
    )
    if limit is not None:
        chosen = chosen[:limit]
    answered = _answered_after(frame, chosen)
    rows = []
    for post in chosen:
        ref = frame.person(post.person)
        thread = frame.threads.get(post.thread)
        rows.append(
            Newcomer(
                ref.key,
                ref.name,
                periods.iso(post.date) or "",
                post.thread,
                thread.subject if thread else "",
                found.starts[post.thread] is post,
                post.key in answered,
                counts[post.person],
            )
        )
    return rows


def _answered_after(frame: Frame, chosen: list[Post]) -> set[str]:
    """Of the first posts `chosen` (`facts.firsts`), those after which another person posted
    in the same thread.

    Post i of person P in thread T is answered when T's last post is by someone else than P
    and comes after i, or when it is P's and T's last post by someone else comes after i:
    per thread, its last post, that post's author and the last post of anyone else, from the
    facts' columns (a walk over every later post before: 1.4-2.2 s at 1M)."""
    answered: set[str] = set()
    if not chosen:
        return answered
    cols = facts(frame).columns
    thread = cols.thread
    person = cols.person.astype(np.int64)
    last = last_positions(thread, cols.threads)
    last_author = person[last]  # per thread code
    others = np.flatnonzero(person != last_author[thread])  # posts not by their thread's last
    last_other = np.full(cols.threads, -1, np.int64)
    found = last_positions(thread[others], cols.threads)
    last_other[found >= 0] = others[found[found >= 0]]
    code_of = dict(zip(cols.person_ids.tolist(), range(len(cols.person_ids)), strict=True))
    for post in chosen:
        code = code_of[post.person]
        at = int(cols.first_pos[code])
        t = int(thread[at])
        after = last[t] if last_author[t] != code else last_other[t]
        if after > at:
            answered.add(post.key)
    return answered


def newcomer_count(frame: Frame) -> int:
    """How many persons `newcomers` lists without a limit (their first post in the scope is
    inside the window), without making their rows."""
    within = inside(frame)
    return sum(1 for p in facts(frame).firsts.values() if within(p.date))


def posters(frame: Frame, limit: int, hidden: set[str]) -> list[activity.Poster]:
    """The posters of `webui.stats_pages._people` as it was at 3917c4e (every poster ranked,
    then the hidden ones left out and the first `limit` kept)."""
    everyone = [p for p in activity.top_posters(frame, None) if p.person not in hidden]
    return everyone[:limit]
