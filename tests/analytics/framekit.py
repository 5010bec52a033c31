"""Hand-built frames for the metric unit tests: posts given as (UTC time, thread, author,
replied-to post), persons and lists by name."""

from __future__ import annotations

from calendar import timegm
from collections.abc import Sequence
from datetime import date

from analytics.frame import Frame, PersonRef, Post, ThreadRef
from analytics.scope import Scope

LISTS = {1: "alpha", 2: "beta"}


def ts(text: str) -> int:
    """`2020-01-06T10:00` (UTC) as epoch seconds."""
    day, _, clock = text.partition("T")
    year, month, mday = (int(x) for x in day.split("-"))
    hour, minute = (int(x) for x in (clock or "00:00").split(":"))
    return timegm((year, month, mday, hour, minute, 0))


def build(
    rows: Sequence[
        tuple[str, str, str, int | None] | tuple[str, str, str, int | None, tuple[int, ...]]
    ],
    *,
    start: date | None = None,
    end: date | None = None,
    undated: int = 0,
) -> Frame:
    """`rows[i]` is post i+1: (time, thread, person name, number of the post replied to or
    None[, list ids]).  Person ids follow the order names first appear in."""
    names: dict[str, int] = {}
    posts: list[Post] = []
    for number, row in enumerate(rows, start=1):
        when, thread, who, parent = row[:4]
        lists = row[4] if len(row) > 4 else (1,)
        person = names.setdefault(who, len(names) + 1)
        parent_post = posts[parent - 1] if parent else None
        posts.append(
            Post(
                id=number,
                key=f"m{number}",
                date=ts(when),
                thread=thread,
                parent=parent_post.key if parent_post else None,
                person=person,
                parent_person=parent_post.person if parent_post else None,
                lists=tuple(lists),
            )
        )
    posts.sort(key=lambda p: (p.date, p.id))
    persons = {pid: PersonRef(pid, f"k-{name.lower()}", name) for name, pid in names.items()}
    threads = {p.thread: ThreadRef(p.thread, f"About {p.thread}", None) for p in posts}
    scope = Scope(("alpha", "beta"), (1, 2), start=start, end=end)
    return Frame(scope, posts, undated, persons, threads, dict(LISTS))
