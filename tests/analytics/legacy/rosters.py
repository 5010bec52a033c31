"""The roster report of one list as it was before issue 14's task DB4 (a pass over the list's
frame, commit 3917c4e): the reference the SQL aggregate of `analytics.rosters` is compared with
(tests/analytics/test_rosters_reference.py).  Kept verbatim apart from its imports; not used
by the application."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics.frame import load_frame
from analytics.rosters import _day, _member, _people, _roster_or_fail
from analytics.scope import resolve_scope
from store import rosters


def list_report(
    conn: sqlite3.Connection, list_name: str, *, since: date | None = None
) -> dict[str, Any]:
    """The roster report of one list (see the module docstring)."""
    roster = _roster_or_fail(conn, list_name)
    members = rosters.members(conn, roster.id)
    start = since or date.fromisoformat(roster.as_of) - timedelta(days=365)
    start_ts = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    scope = resolve_scope(conn, lists=[list_name], include_private=True)
    frame = load_frame(conn, scope)
    posts: dict[int, int] = defaultdict(int)
    recent: dict[int, int] = defaultdict(int)
    last: dict[int, int] = {}
    in_window = 0
    list_last: int | None = None
    for post in frame.posts:
        posts[post.person] += 1
        last[post.person] = post.date
        recent[post.person] += post.date >= start_ts
        in_window += post.date >= start_ts
        list_last = post.date if list_last is None else max(list_last, post.date)
    member_addresses = {m.address for m in members}
    people = _people(conn, member_addresses, (p for p, n in recent.items() if n))
    member_persons = {people.person_of[a] for a in member_addresses if a in people.person_of}
    never = [
        _member(m, people)
        for m in members
        if people.person_of.get(m.address) is None or not posts.get(people.person_of[m.address])
    ]
    outsiders: list[dict[str, Any]] = []
    for person, count in recent.items():
        if not count or person in member_persons:
            continue
        key, name = people.names.get(person, ("", ""))
        own = people.addresses.get(person, [])
        if not key or not own:  # the unknown sender, or a name-only identity
            continue
        outsiders.append(
            {
                "person_key": key,
                "person_name": name,
                "addresses": own,
                "posts": count,
                "last_post": _day(last.get(person)),
            }
        )
    outsiders.sort(key=lambda r: (-r["posts"], r["person_name"].casefold(), r["person_key"]))
    return {
        "list": list_name,
        "roster": {
            "id": roster.id,
            "as_of": roster.as_of,
            "format": roster.format,
            "source": roster.source,
            "imported_at": roster.imported_at,
            "members": roster.members,
        },
        "since": start.isoformat(),
        # the posts on the list since `since`, and its newest post: a historical archive's
        # default window (a year before the roster's day) may hold none
        "posts_since": in_window,
        "last_post": _day(list_last),
        "summary": {
            "members": len(members),
            "members_who_posted": len(members) - len(never),
            "members_never_posted": len(never),
            "posters_not_members": len(outsiders),
        },
        "members_never_posted": never,
        "posters_not_members": outsiders,
    }
