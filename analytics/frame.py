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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from analytics import frame_sql
from analytics.frame_memory import long_lived as long_lived
from analytics.frame_memory import release_memory as release_memory
from analytics.frame_memory import thaw as thaw
from analytics.frame_posts import PersonRef as PersonRef
from analytics.frame_posts import Post as Post
from analytics.frame_posts import PostColumns as PostColumns
from analytics.frame_posts import PostSource
from analytics.frame_posts import ThreadRef as ThreadRef
from analytics.frame_sql import person_refs as person_refs
from analytics.scope import Scope
from store import bots, identities


@dataclass(slots=True)
class Frame:
    """`source`: the posts, by (date, id), as a list or a `PostSource` (made a source: every
    frame of the same loaded one shares it); read them as `posts`."""

    scope: Scope
    source: PostSource | list[Post]
    undated: int
    persons: dict[int, PersonRef]
    threads: dict[str, ThreadRef]
    list_names: dict[int, str]
    undated_by: dict[int, int] = field(default_factory=dict)  # undated posts per person
    bot_posts: int = 0  # dated posts by bots in the scope (left out unless include_bots)
    columns: PostColumns | None = None  # the posts' fields as arrays (from a snapshot)

    def __post_init__(self) -> None:
        if isinstance(self.source, list):
            self.source = PostSource(self.source)

    @property
    def posts(self) -> list[Post]:
        """The posts by (date, id) (made now if the frame was read from its snapshot)."""
        return cast(PostSource, self.source).get()

    @property
    def post_count(self) -> int:
        return len(self.source)

    def date_range(self) -> tuple[int, int] | None:
        """The dates of the first and last posts (None: no posts), from the columns when
        the frame has them (its posts are not made for it)."""
        if not len(self.source):
            return None
        if self.columns is not None:
            dates = self.columns.dates
            return int(dates[0]), int(dates[-1])
        posts = self.posts
        return posts[0].date, posts[-1].date

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
            self.source,
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


def _load(conn: sqlite3.Connection, scope: Scope) -> Frame:
    """The frame of `scope` read from the messages (`analytics.frame_sql`)."""
    posts, undated, persons, threads, names, undated_by = frame_sql.read(conn, scope)
    return Frame(scope, posts, undated, persons, threads, names, undated_by=undated_by)


def _without_bots(frame: Frame, marked: frozenset[int]) -> Frame:
    """`frame` as the metrics see it: without the posts of the persons in `marked` (when the
    scope excludes bots), and counting those posts either way (`bot_posts`).  A frame with
    columns is filtered on them, its posts left to be made when read."""
    cols = frame.columns
    if not marked:
        bot_posts = 0
    elif cols is not None:
        bot_posts = int(np.isin(cols.persons, np.array(sorted(marked), np.int64)).sum())
    else:
        bot_posts = sum(1 for p in frame.posts if p.person in marked)
    if frame.scope.include_bots or not marked:
        found = frame.with_scope(frame.scope)
        found.bot_posts = bot_posts
        return found
    source = cast(PostSource, frame.source)
    kept_cols = None if cols is None else cols.without(marked)
    if kept_cols is None:
        posts = PostSource(_posts_without(source.get(), marked))
        kept = {p.thread for p in posts.get()}
    else:
        count = len(kept_cols.dates)
        posts = PostSource(make=lambda: _posts_without(source.get(), marked), count=count)
        kept = _threads_of(kept_cols)
    # the threads that keep a post: most do (a bot's threads are answered), so the frame's
    # dict is shared (frames never change theirs) or copied without the others
    dropped = frame.threads.keys() - kept
    threads = (
        {k: v for k, v in frame.threads.items() if k not in dropped} if dropped else frame.threads
    )
    return Frame(
        frame.scope,
        posts,
        frame.undated - sum(frame.undated_by.get(b, 0) for b in marked),
        {k: v for k, v in frame.persons.items() if k not in marked},
        threads,
        frame.list_names,
        undated_by={k: v for k, v in frame.undated_by.items() if k not in marked},
        bot_posts=bot_posts,
        columns=kept_cols,
    )


def _threads_of(cols: PostColumns) -> set[str]:
    """The thread ids of the posts of `cols` (counted per table index: no sort of the posts;
    an index may count from the table's end, as Python reads it)."""
    table = cols.thread_table
    if not len(table):
        return set()
    used = np.flatnonzero(np.bincount(cols.threads % len(table), minlength=len(table)))
    return set(map(table.__getitem__, used.tolist()))


def _posts_without(posts: list[Post], marked: frozenset[int]) -> list[Post]:
    return [
        p._replace(parent_person=None) if p.parent_person in marked else p
        for p in posts
        if p.person not in marked
    ]


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


def held_posts() -> list[PostSource]:
    """The distinct posts of the cached frames (what derived caches are kept for)."""
    with _LOCK:
        found = {id(frame.source): frame.source for frame in _CACHE.values()}
        return [cast(PostSource, source) for source in found.values()]


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
        0 if len(key) > _KEY_PARTS and key[:_KEY_PARTS] in _CACHE else frame.post_count
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
