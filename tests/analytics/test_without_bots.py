"""The frame without bots (`analytics.frame._without_bots`: the kept threads counted per table
index, the frame's dict shared when every thread keeps a post; issue 14, task DB4) equals the
code it replaced (tests/analytics/legacy/frame_bots.py, 3917c4e): on random frames full of ties,
loaded or read from their snapshot, whatever persons are marked (none, a poster, everyone, one
only replied to), thread by thread and in the same order."""

from __future__ import annotations

import random
from dataclasses import fields, replace

import numpy as np
import pytest

from analytics import frame_snapshot
from analytics.frame import Frame, _threads_of, _without_bots
from analytics.frame_posts import PostColumns, PostSource
from tests.analytics.legacy import frame_bots as old
from tests.analytics.test_fast_facts import random_frame

KEY = "lists=1,2;private=1;hidden="


def _lazy(frame: Frame) -> Frame:
    blob = frame_snapshot.encode(frame, KEY)
    assert blob is not None
    return frame_snapshot.decode(blob, KEY, frame.scope)


def _same(found: Frame, wanted: Frame) -> None:
    for f in fields(Frame):
        if f.name not in ("source", "columns"):
            assert getattr(found, f.name) == getattr(wanted, f.name), f.name
    assert list(found.threads.items()) == list(wanted.threads.items())  # in the same order
    assert found.post_count == wanted.post_count
    if wanted.columns is None:
        assert found.columns is None
    else:
        assert found.columns is not None
        for f in fields(PostColumns):
            assert np.array_equal(getattr(found.columns, f.name), getattr(wanted.columns, f.name))
    assert found.posts == wanted.posts


@pytest.mark.parametrize("seed", range(80))
def test_random_frames_as_before(seed: int) -> None:
    rng = random.Random(seed)
    frame = random_frame(rng, rng.choice((0, 1, 2, 5, 12, 40, 120)))
    persons = sorted({p.person for p in frame.posts} | {p.parent_person or 0 for p in frame.posts})
    choices = [frozenset(), frozenset(persons), frozenset({10**12})]
    choices += [frozenset(rng.sample(persons, rng.randint(0, len(persons)))) for _ in range(3)]
    for marked in choices:
        for made in (frame, _lazy(frame)):
            for include in (False, True):
                seen = made.with_scope(replace(made.scope, include_bots=include))
                _same(_without_bots(seen, marked), old._without_bots(seen, marked))


def test_a_thread_left_without_posts_goes_and_the_others_are_shared() -> None:
    rng = random.Random(3)
    frame = _lazy(random_frame(rng, 40))
    only = {p.thread: p.person for p in frame.posts}
    lone = {t for t in only if all(p.person == only[t] for p in frame.posts if p.thread == t)}
    marked = frozenset({only[t] for t in lone} or {frame.posts[0].person})
    found = _without_bots(frame, marked)
    assert found.threads == old._without_bots(frame, marked).threads
    kept = {p.thread for p in found.posts}
    assert set(found.threads) == set(frame.threads) & kept
    frame.threads = {k: v for k, v in frame.threads.items() if k in only}  # as loaded
    assert _without_bots(frame, frozenset({10**12})).threads is frame.threads


@pytest.mark.parametrize("seed", range(30))
def test_threads_of_reads_indexes_as_python_does(seed: int) -> None:
    rng = random.Random(seed)
    table = [f"t{i % 7}" for i in range(rng.randint(1, 12))]  # ids may repeat
    codes = np.array([rng.randrange(-len(table), len(table)) for _ in range(50)], np.int64)
    cols = PostColumns(codes * 0, codes * 0, codes, table, codes * 0 - 1)
    assert _threads_of(cols) == {table[i] for i in codes.tolist()}
    assert _threads_of(PostColumns(codes[:0], codes[:0], codes[:0], [], codes[:0])) == set()


def test_the_frame_without_bots_is_lazy() -> None:
    frame = _lazy(random_frame(random.Random(5), 60))
    found = _without_bots(frame, frozenset({frame.posts[0].person}))
    assert isinstance(found.source, PostSource) and not found.source.made
