"""A frame read from its snapshot hands its columns to the facts (issue 14, task FX): the
facts (and every metric) made of them equal those made of the frame's posts, with and
without bots' posts left out."""

from __future__ import annotations

import random
from dataclasses import fields

import numpy as np
import pytest

from analytics import facts, frame_snapshot
from analytics.facts_columns import Columns, columns
from analytics.frame import Frame, _without_bots
from tests.analytics.test_fast_facts import compare, random_frame

KEY = "lists=1,2;private=1;hidden="


def _snapshot(frame: Frame) -> Frame:
    blob = frame_snapshot.encode(frame, KEY)
    assert blob is not None
    found = frame_snapshot.decode(blob, KEY, frame.scope)
    assert found.posts == frame.posts and found.columns is not None
    return found


def _same(mine: Columns, theirs: Columns) -> None:
    for field in fields(Columns):
        a, b = getattr(mine, field.name), getattr(theirs, field.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), field.name
        else:
            assert a == b, field.name


def _facts_of_both(frame: Frame) -> None:
    assert frame.columns is not None
    _same(columns(frame.posts, frame.columns), columns(frame.posts))
    from_posts = facts.Facts(frame.posts, columns(frame.posts), {})
    given = frame.columns.parent_persons
    assert given.dtype == np.int64 and np.array_equal(given, from_posts.parent_persons)


@pytest.mark.parametrize("seed", range(60))
def test_snapshot_columns_give_the_facts_of_the_posts(seed: int) -> None:
    rng = random.Random(seed)
    frame = _snapshot(random_frame(rng, rng.choice((0, 1, 2, 5, 12, 40, 120))))
    _facts_of_both(frame)
    compare(frame)  # every metric through facts(), which takes the frame's columns
    persons = sorted({p.person for p in frame.posts})
    marked = frozenset(rng.sample(persons, rng.randint(0, len(persons))))
    seen = _without_bots(frame, marked)
    sql = _without_bots(Frame(*(getattr(frame, f.name) for f in fields(Frame)[:-1])), marked)
    assert sql.columns is None and seen.posts == sql.posts
    _facts_of_both(seen)
    assert seen.with_scope(frame.scope).columns is seen.columns


def test_facts_take_the_frames_columns() -> None:
    frame = _snapshot(random_frame(random.Random(3), 40))
    assert frame.columns is not None
    facts.clear_cache()
    assert facts.facts(frame).views["parent_persons"] is frame.columns.parent_persons
    facts.clear_cache()
