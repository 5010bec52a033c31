"""The posts of a scope, loaded once and shared by every metric.

A frame holds the whole history of the scope's lists (newcomer and lapse classification need the
posts before and after a date window); metrics apply the window themselves with
`frame.in_window()`.  Posts without a usable date are left out and counted (`undated`).

Frames are cached per process, keyed on the store file, its change sequence, the persons
version (merges), the lists and the reader's access: a dashboard opened again, or another
dashboard of the same scope, costs no database work.  Any sync or merge changes the key.  A
frame not cached is read from its snapshot in the store when one was kept for that key
(`analytics.frame_snapshot`), else loaded from the messages and its snapshot kept for the
other workers (frames of `analytics.snapshot_min_posts` posts or more).

Bots (`store.bots`) are left out here, once for every metric, unless the scope includes them
(`Scope.include_bots`): their posts are not in the frame, a reply to a bot's post answers
nobody counted (`parent_person` None), and a thread a bot started begins at its first post by
someone else.  The frame without bots is derived from the loaded one and cached on the bot
set too, so marking a bot costs no database work beyond reading the marks.

A frame holds what its reader may see (`store.visibility`): without private access the
scope's lists are public ones, a thread's subject is that of its first visible message, and
a reply to a message the reader may not read answers someone unknown.  Removed messages
(`store.removals`) are in no frame, for any reader; a removal or its undo changes the change
sequence, so cached frames are not reused across it.
"""

from __future__ import annotations

import sqlite3
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from sys import intern
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from analytics.frame_memory import long_lived as long_lived
from analytics.frame_memory import release_memory as release_memory
from analytics.frame_memory import thaw as thaw
from analytics.scope import Scope
from store import bots, identities, removals, thread_queries, visibility


class Post(NamedTuple):
    """One post of the scope (a named tuple: frames hold tens of thousands of them)."""

    id: int
    key: str
    date: int  # seconds since the epoch, UTC
    thread: str
    parent: str | None  # the key of the message replied to
    person: int
    parent_person: int | None  # who is replied to (also on another list); None: not known
    lists: tuple[int, ...]  # the scope's lists this post is on


@dataclass(frozen=True, slots=True)
class PersonRef:
    id: int
    key: str
    name: str


class ThreadRef(NamedTuple):  # a named tuple: a frame holds one a thread (quicker to make)
    id: str
    subject: str
    root_key: str | None


@dataclass(frozen=True, slots=True)
class PostColumns:
    """Fields of a frame's posts as arrays (parallel to `posts`), as a frame read from its
    snapshot has them (`analytics.frame_snapshot`): `analytics.facts_columns` takes them
    instead of reading them back from a million `Post`s.  A frame loaded from SQL has none."""

    dates: NDArray[np.int64]
    persons: NDArray[np.int64]
    threads: NDArray[np.int64]  # the index of the post's thread id in `thread_table`
    thread_table: list[str]  # distinct thread ids
    parent_persons: NDArray[np.int64]  # -1: None

    def without(self, marked: frozenset[int]) -> PostColumns:
        """The columns of the posts not by `marked`, replies to them answering nobody known
        (what `_without_bots` makes of the posts)."""
        bots_ = np.array(sorted(marked), np.int64)
        kept = ~np.isin(self.persons, bots_)
        parents = self.parent_persons[kept]
        parents[np.isin(parents, bots_)] = -1
        return PostColumns(
            self.dates[kept], self.persons[kept], self.threads[kept], self.thread_table, parents
        )


@dataclass(slots=True)
class Frame:
    scope: Scope
    posts: list[Post]  # by (date, id)
    undated: int
    persons: dict[int, PersonRef]
    threads: dict[str, ThreadRef]
    list_names: dict[int, str]
    undated_by: dict[int, int] = field(default_factory=dict)  # undated posts per person
    bot_posts: int = 0  # dated posts by bots in the scope (left out unless include_bots)
    columns: PostColumns | None = None  # the posts' fields as arrays (from a snapshot)

    def in_window(self) -> list[Post]:
        """The posts inside the scope's date window (a slice: posts are sorted by date)."""
        start, end = self.scope.start_ts, self.scope.end_ts
        if start is None and end is None:
            return self.posts
        low = 0 if start is None else bisect_left(self.posts, start, key=_date_of)
        high = len(self.posts) if end is None else bisect_left(self.posts, end, key=_date_of)
        return self.posts[low:high]

    def person(self, person_id: int) -> PersonRef:
        return self.persons.get(person_id) or PersonRef(person_id, "", identities.UNKNOWN_NAME)

    def with_scope(self, scope: Scope) -> Frame:
        """The same posts seen through another date window (same lists)."""
        return Frame(
            scope,
            self.posts,
            self.undated,
            self.persons,
            self.threads,
            self.list_names,
            undated_by=self.undated_by,
            bot_posts=self.bot_posts,
            columns=self.columns,
        )

    @property
    def bots_excluded_posts(self) -> int:
        """Posts by bots that the metrics do not count (0 when the scope includes bots)."""
        return 0 if self.scope.include_bots else self.bot_posts


def _date_of(post: Post) -> int:
    return post.date


_POSTS = """
SELECT m.id, m.key, m.date, m.thread_id, m.parent_key, m.identity, m.parent_direct
FROM messages m INDEXED BY messages_frame
"""


def _chunks(values: list[Any], size: int = 900) -> Iterator[tuple[list[Any], str]]:
    for start in range(0, len(values), size):
        part = values[start : start + size]
        yield part, ",".join("?" * len(part))


def _load(conn: sqlite3.Connection, scope: Scope) -> Frame:
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
    # One pass over the covering index (cheaper than a join, even for a single list), each row
    # made into its post at once: the rows are never all held, so the objects a post keeps
    # (its id, date and key) are not spread among freed ones the heap cannot give back.
    for mid, key, date, thread, parent, identity, direct in conn.execute(_POSTS):
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
            made.append(Post(mid, key, date, intern(thread), None, person, None, lists))
            continue
        parent = intern(parent)
        if parent in parent_of:  # its parent read already: who it answers is known
            who = parent_of[parent] if direct != 0 else None
        else:
            later.append(len(made))
            who = direct
        made.append(Post(mid, key, date, intern(thread), parent, person, who, lists))
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
    return Frame(scope, posts, undated, persons, threads, names, undated_by=undated_by)


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


def _without_bots(frame: Frame, marked: frozenset[int]) -> Frame:
    """`frame` as the metrics see it: without the posts of the persons in `marked` (when the
    scope excludes bots), and counting those posts either way (`bot_posts`)."""
    bot_posts = sum(1 for p in frame.posts if p.person in marked) if marked else 0
    if frame.scope.include_bots or not marked:
        found = frame.with_scope(frame.scope)
        found.bot_posts = bot_posts
        return found
    posts = [
        p._replace(parent_person=None) if p.parent_person in marked else p
        for p in frame.posts
        if p.person not in marked
    ]
    kept = {p.thread for p in posts}
    return Frame(
        frame.scope,
        posts,
        frame.undated - sum(frame.undated_by.get(b, 0) for b in marked),
        {k: v for k, v in frame.persons.items() if k not in marked},
        {k: v for k, v in frame.threads.items() if k in kept},
        frame.list_names,
        undated_by={k: v for k, v in frame.undated_by.items() if k not in marked},
        bot_posts=bot_posts,
        columns=None if frame.columns is None else frame.columns.without(marked),
    )


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


_CACHE: OrderedDict[tuple[object, ...], Frame] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 16  # a loaded frame and the one the metrics see (without bots), per scope
CACHE_POSTS = [2_000_000]  # posts the cached frames may hold (`web.frame_cache_posts`)
_ON_DROP: list[Callable[[], None]] = []  # told when frames are dropped (`facts`' cache)


def set_cache_posts(limit: int) -> None:
    """Bound the frames kept by the posts they hold (the most recent frame is always kept)."""
    CACHE_POSTS[0] = limit
    _keep_within()


def on_drop(listener: Callable[[], None]) -> None:
    _ON_DROP.append(listener)


def held_posts() -> list[list[Post]]:
    """The distinct post lists of the cached frames (what derived caches may keep)."""
    with _LOCK:
        return list({id(frame.posts): frame.posts for frame in _CACHE.values()}.values())


def _cache_key(conn: sqlite3.Connection, scope: Scope) -> tuple[object, ...]:
    """The frame's key: the store file, its state, the lists and the access (in a store
    without private lists an anonymous reader's frame is a facilitator's: one frame)."""
    path = next((str(r[2]) for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    seq = conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
    found = seq[0] if seq else "0"
    private = (
        scope.include_private
        or not conn.execute("SELECT 1 FROM lists WHERE private LIMIT 1").fetchone()
    )
    return (path, found, identities.version(conn), scope.list_ids, private)


def _cached(key: tuple[object, ...]) -> Frame | None:
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
        return found


def _held() -> int:
    """Posts held by the cached frames: a loaded frame's, and a frame without bots' only when
    its loaded frame (whose posts it shares) is not cached."""
    return sum(
        0 if len(key) > _KEY_PARTS and key[:_KEY_PARTS] in _CACHE else len(frame.posts)
        for key, frame in _CACHE.items()
    )


_KEY_PARTS = 5  # `_cache_key`'s; a frame without bots' key has more


def _keep_within() -> bool:
    with _LOCK:
        dropped = False
        while len(_CACHE) > 1 and (len(_CACHE) > CACHE_SIZE or _held() > CACHE_POSTS[0]):
            _CACHE.popitem(last=False)
            dropped = True
    if dropped:
        for listener in _ON_DROP:
            listener()
        thaw()
        release_memory()
    return dropped


def _keep(key: tuple[object, ...], frame: Frame) -> None:
    with _LOCK:
        _CACHE[key] = frame
    _keep_within()


def load_frame(conn: sqlite3.Connection, scope: Scope) -> Frame:
    """The frame of `scope` (cached; the date window is applied by the metrics; bots left
    out unless `scope.include_bots`)."""
    key = _cache_key(conn, scope)
    marked = bots.bot_ids(conn)
    seen_key = (*key, "bots", scope.include_bots, marked)
    seen = _cached(seen_key)
    if seen is None:
        with long_lived():
            loaded = _cached(key)
            if loaded is None:
                from analytics import frame_snapshot  # it imports this module

                loaded = frame_snapshot.read(conn, scope, key)
                if loaded is None:
                    loaded = _load(conn, scope)
                    frame_snapshot.keep(conn, loaded, key)  # for the other workers
                _keep(key, loaded)
            seen = _without_bots(loaded.with_scope(scope), marked)
            _keep(seen_key, seen)
    return seen.with_scope(scope)


def clear_cache() -> None:
    """Forget every loaded frame (a process that computed figures for the store and does
    not serve them: `webui.stats_prepare`)."""
    with _LOCK:
        _CACHE.clear()
    thaw()
