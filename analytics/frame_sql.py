"""A frame read from the messages in SQL (`analytics.frame`'s `_load`; the snapshot is
`analytics.frame_snapshot`).  See `analytics.frame` for what a frame holds and for whom."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from operator import itemgetter
from sys import intern
from typing import Any

from analytics.frame_posts import PersonRef, Post, ThreadRef
from analytics.scope import Scope
from store import removals, thread_queries, visibility

Loaded = tuple[
    list[Post], int, dict[int, PersonRef], dict[str, ThreadRef], dict[int, str], dict[int, int]
]

_NEW = tuple.__new__  # a `Post` made in C, not through its generated Python `__new__`

_POSTS = """
SELECT m.id, m.key, m.date, m.thread_id, m.parent_key, m.identity, m.parent_direct
FROM messages m INDEXED BY messages_frame
"""

# A scope whose memberships are fewer than this share of the messages (by the largest id: no
# count) reads its messages by id through the same index (task DB5).  `read`'s CPU, one pass
# -> by id, load 2.5-3.4: 1M, a share of 0.03 (25,727 posts) 1.18 -> 0.21 s, 0.26 2.54 ->
# 2.38 s, 0.50 4.08 -> 3.91 s, 0.59 4.60 -> 4.66 s, all 6.56 -> 7.46 s; 300k, 0.09 0.49 ->
# 0.15 s, 0.41 1.07 -> 1.06 s, 0.58 1.38 -> 1.22 s, all 2.05 -> 2.22 s: even at about 0.6.
BY_MEMBERSHIP_SHARE = 0.5


def _chunks(values: list[Any], size: int = 900) -> Iterator[tuple[list[Any], str]]:
    for start in range(0, len(values), size):
        part = values[start : start + size]
        yield part, ",".join("?" * len(part))


def read(conn: sqlite3.Connection, scope: Scope) -> Loaded:
    """The posts of `scope` (by (date, id)), undated posts, persons, threads, list names
    and undated posts per person, as `analytics.frame.Frame` holds them."""
    undated = 0
    undated_by: dict[int, int] = {}
    marks = ",".join("?" * len(scope.list_ids))
    on_lists: dict[int, tuple[int, ...]] = {}
    if scope.list_ids:
        # one tuple per combination; most messages are on one list: its tuple, made once
        single = {i: (i,) for i in scope.list_ids}
        shared: dict[tuple[int, ...], tuple[int, ...]] = {t: t for t in single.values()}
        for message, list_id in conn.execute(
            f"SELECT message, list FROM memberships WHERE list IN ({marks})", scope.list_ids
        ):
            found = on_lists.get(message)
            if found is None:
                on_lists[message] = single[list_id]
            else:
                both = tuple(sorted((*found, list_id)))
                on_lists[message] = shared.setdefault(both, both)
    viewer = visibility.for_reader(conn, include_private=scope.include_private)
    gone = removals.hidden_keys(conn) if viewer.removals else frozenset()
    person_of: dict[int, int] = dict(conn.execute("SELECT id, person FROM identities").fetchall())
    parent_of: dict[str, int] = {}  # key -> author, for every message of the scope
    made: list[Post] = []
    later: list[int] = []  # replies read before their parent (parent_person: parent_direct)
    # The covering index read once, each row made into its post at once: the rows are never
    # all held, so the objects a post keeps (its id, date and key) are not spread among freed
    # ones the heap cannot give back.  The order rows are read in changes nothing: a reply
    # read before its parent is settled with the same rule once all are read.
    for mid, key, date, thread, parent, identity, direct in _rows(conn, scope, len(on_lists)):
        lists = on_lists.get(mid)
        if lists is None or key in gone:
            continue
        key = intern(key)  # one string per key, thread and parent across every frame
        person = person_of.get(identity, 0)
        parent_of[key] = person
        if date is None or thread is None:
            if date is None:
                undated += 1
                undated_by[person] = undated_by.get(person, 0) + 1
            continue
        if not parent:
            made.append(_NEW(Post, (mid, key, date, intern(thread), None, person, None, lists)))
            continue
        parent = intern(parent)
        if parent in parent_of:  # its parent read already: who it answers is known
            who = parent_of[parent] if direct != 0 else None
        else:
            later.append(len(made))
            who = direct
        made.append(_NEW(Post, (mid, key, date, intern(thread), parent, person, who, lists)))
    del on_lists
    replies = map(made.__getitem__, later)
    missing = sorted({p.parent for p in replies if p.parent and p.parent not in parent_of})
    for part, part_marks in _chunks(missing):
        for key, identity in conn.execute(
            f"SELECT m.key, m.identity FROM messages m WHERE m.key IN ({part_marks}) "
            f"AND {viewer.messages('m')}",
            part,
        ):
            parent_of[key] = person_of.get(identity, 0)
    posts = _with_parents(made, later, parent_of)
    posts.sort(key=itemgetter(0))  # by id (read so: one pass), then stably by date:
    posts.sort(key=itemgetter(2))  # by (date, id) without a key tuple a post
    answered = filter(None, map(itemgetter(6), posts))  # parent_person, when known
    person_ids = sorted(set(map(itemgetter(5), posts)).union(answered))
    persons = person_refs(conn, person_ids)
    threads = _threads(conn, viewer, set(map(itemgetter(3), posts)))
    names = {
        int(i): str(n)
        for i, n in conn.execute("SELECT id, name FROM lists")
        if int(i) in scope.list_ids
    }
    return posts, undated, persons, threads, names, undated_by


def _rows(conn: sqlite3.Connection, scope: Scope, members: int) -> sqlite3.Cursor:
    """The `messages_frame` rows to read: all of them in one pass (a large scope), or, for
    a scope of fewer than `BY_MEMBERSHIP_SHARE` of the messages, its members' by id."""
    if not scope.list_ids:
        return conn.execute(_POSTS + " WHERE 0")
    last = conn.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
    if members >= BY_MEMBERSHIP_SHARE * last:
        return conn.execute(_POSTS)
    marks = ",".join("?" * len(scope.list_ids))
    where = f" WHERE m.id IN (SELECT message FROM memberships WHERE list IN ({marks}))"
    return conn.execute(_POSTS + where, scope.list_ids)


def person_refs(conn: sqlite3.Connection, person_ids: list[int]) -> dict[int, PersonRef]:
    """The key and display name of each person of `person_ids` (sorted), as stored now."""
    persons: dict[int, PersonRef] = {}
    for part, part_marks in _chunks(person_ids):
        for pid, key, name in conn.execute(
            f"SELECT id, key, name FROM persons WHERE id IN ({part_marks})", part
        ):
            persons[int(pid)] = PersonRef(int(pid), str(key), str(name))
    return persons


def _with_parents(made: list[Post], later: list[int], parent_of: dict[str, int]) -> list[Post]:
    """`made`'s posts (in place) with who each reply of `later` (those read before their
    parent) replies to, in place of the `parent_direct` `_load` kept there: a reply to a
    message not in the archive, or not visible, replies to nobody (`parent` None); one to a
    message the archive lacks (`parent_direct` 0) answers someone unknown (None)."""
    for i in later:
        post = made[i]
        parent = post.parent
        if parent is None or parent not in parent_of:
            made[i] = post._replace(parent=None, parent_person=None)
        else:
            who = parent_of[parent] if post.parent_person != 0 else None
            made[i] = post._replace(parent_person=who)
    return made


def _threads(
    conn: sqlite3.Connection, viewer: visibility.Visibility, wanted: set[str]
) -> dict[str, ThreadRef]:
    """Subject and root of the frame's threads as the reader sees them: the stored ones, or,
    for a thread with messages the reader may not read, those of its first visible message."""
    threads: dict[str, ThreadRef] = {}
    for tid, subject, root in _thread_rows(conn, wanted):
        if tid in wanted:
            tid = intern(str(tid))
            threads[tid] = ThreadRef(tid, intern(str(subject)), intern(root) if root else root)
    if not viewer.hides_messages:
        return threads
    hidden = sorted(thread_queries.threads_with_hidden(conn, viewer) & wanted)
    for tid, seen in thread_queries.thread_summaries(conn, viewer, hidden).items():
        threads[tid] = ThreadRef(tid, seen.subject, seen.root_key)
    return threads


def _thread_rows(conn: sqlite3.Connection, wanted: set[str]) -> Iterator[tuple[str, str, Any]]:
    """The rows of the threads `wanted` (and maybe others): looked up by id when they are
    few of the threads (a small scope of a large archive), else all rows read in one pass."""
    query = "SELECT thread_id, subject, root_key FROM threads"
    total = int(conn.execute("SELECT count(*) FROM threads").fetchone()[0])
    if len(wanted) * 4 >= total:
        yield from conn.execute(query)
        return
    for part, part_marks in _chunks(sorted(wanted)):
        yield from conn.execute(f"{query} WHERE thread_id IN ({part_marks})", part)
