"""The per-process frame cache bounded by the posts it holds (`web.frame_cache_posts`), on the
twisted-python 2018 volumes (49 posts, tests/analytics/conftest.py)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics import activity, facts, frame
from analytics.scope import resolve_scope
from store.store import Store


@pytest.fixture()
def with_private(twisted_2018: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The volumes' store with an empty private list beside: an anonymous reader's frame is
    then its own (in a store without private lists it is the facilitator's)."""
    path = tmp_path / "store.db"
    shutil.copy(twisted_2018, path)
    store = Store(path)
    store.add_list("private-empty", "mbox", private=True)
    store.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture()
def empty_caches() -> Iterator[None]:
    limit = frame.CACHE_POSTS[0]
    frame.clear_cache()
    facts.clear_cache()
    yield
    frame.set_cache_posts(limit)
    frame.clear_cache()
    facts.clear_cache()


def _series(conn: sqlite3.Connection, private: bool) -> list[activity.PeriodActivity]:
    scope = resolve_scope(conn, lists=["twisted-python"], include_private=private)
    return activity.series(frame.load_frame(conn, scope))


def test_bound_drops_oldest_frame_and_its_facts(
    with_private: sqlite3.Connection, empty_caches: None
) -> None:
    twisted_db = with_private
    expected = [_series(twisted_db, False), _series(twisted_db, True)]
    frame.clear_cache()
    facts.clear_cache()
    frame.set_cache_posts(49)  # one frame of these volumes
    public = frame.load_frame(twisted_db, resolve_scope(twisted_db, lists=["twisted-python"]))
    facts.facts(public)
    assert len(frame.held_posts()) == 1 and facts._CACHE
    assert _series(twisted_db, True) == expected[1]
    held = frame.held_posts()
    # the public frame was dropped (held and the facts' cache are keyed on a frame's source)
    assert len(held) == 1 and held[0] is not public.source
    assert all(entry[0] is not public.source for entry in facts._CACHE.values())
    assert _series(twisted_db, False) == expected[0]  # loaded again, the same answer
    frame.set_cache_posts(1000)
    assert _series(twisted_db, True) == expected[1]
    assert len(frame.held_posts()) == 2


def test_one_frame_for_both_readers_without_private_lists(
    twisted_db: sqlite3.Connection, empty_caches: None
) -> None:
    public = frame.load_frame(twisted_db, resolve_scope(twisted_db, lists=["twisted-python"]))
    private = frame.load_frame(
        twisted_db, resolve_scope(twisted_db, lists=["twisted-python"], include_private=True)
    )
    assert public.posts is private.posts and not public.scope.include_private
    assert private.scope.include_private and len(frame.held_posts()) == 1


def test_frames_share_strings(with_private: sqlite3.Connection, empty_caches: None) -> None:
    twisted_db = with_private
    public = frame.load_frame(twisted_db, resolve_scope(twisted_db, lists=["twisted-python"]))
    private = frame.load_frame(
        twisted_db, resolve_scope(twisted_db, lists=["twisted-python"], include_private=True)
    )
    assert public.posts is not private.posts
    for a, b in zip(public.posts, private.posts, strict=True):
        assert a.key is b.key and a.thread is b.thread
    replies = [p for p in public.posts if p.parent]
    keys = {p.key: p.key for p in public.posts}
    assert replies and any(p.parent in keys for p in replies)
    assert all(p.parent is keys[p.parent] for p in replies if p.parent in keys)
    assert all(public.threads[p.thread].id is p.thread for p in public.posts)
