"""A frame read from its snapshot makes its `Post`s when a metric first reads them (issue 14,
task LP): the frame, the frame without bots and their facts are those of the posts made at
once, the posts are not made for the facts, the periods or the cohorts, and the facts' cache
tells two frames apart by their posts, not by their number or dates."""

from __future__ import annotations

import json
import random
import struct
import zlib
from dataclasses import fields

import numpy as np
import pytest

from analytics import cohorts, facts, frame_snapshot, periods
from analytics.facts_columns import columns
from analytics.frame import Frame, _without_bots
from analytics.frame_posts import PostSource
from tests.analytics.test_fast_facts import compare, random_frame

KEY = "lists=1,2;private=1;hidden="


def _lazy(frame: Frame) -> Frame:
    blob = frame_snapshot.encode(frame, KEY)
    assert blob is not None
    found = frame_snapshot.decode(blob, KEY, frame.scope)
    assert isinstance(found.source, PostSource) and not found.source.made
    return found


def _eager(frame: Frame) -> Frame:
    """`frame` with its posts made and no columns (as loaded from SQL)."""
    made = Frame(*(getattr(frame, f.name) for f in fields(Frame)[:-1]))
    made.source = PostSource(list(frame.posts))
    return made


def _same_frame(lazy: Frame, eager: Frame) -> None:
    for f in fields(Frame):
        if f.name not in ("source", "columns"):
            assert getattr(lazy, f.name) == getattr(eager, f.name), f.name
    assert list(lazy.threads.items()) == list(eager.threads.items())  # in the same order
    assert lazy.post_count == eager.post_count == len(eager.posts)
    assert lazy.date_range() == eager.date_range()
    assert lazy.posts == eager.posts


@pytest.mark.parametrize("seed", range(60))
def test_lazily_made_frames_are_the_frames(seed: int) -> None:
    rng = random.Random(seed)
    frame = random_frame(rng, rng.choice((0, 1, 2, 5, 12, 40, 120)))
    persons = sorted({p.person for p in frame.posts})
    marked = frozenset(rng.sample(persons, rng.randint(0, len(persons))))
    lazy = _lazy(frame)
    seen = _without_bots(lazy, marked)
    facts.clear_cache()
    found = facts.facts(seen)
    for period in ("month", "quarter", "year"):
        periods.span(seen, period)
        cohorts.cohort_counts(seen, period)
    assert not cast_source(lazy).made and not cast_source(seen).made
    eager = _without_bots(_eager(frame), marked)
    wanted = {period: periods.span(eager, period) for period in ("month", "quarter", "year")}
    assert {period: periods.span(seen, period) for period in wanted} == wanted
    for period in wanted:
        assert cohorts.cohort_counts(seen, period) == cohorts.cohort_counts(eager, period)
    _same_frame(seen, eager)
    _same_frame(lazy, frame)
    assert found.posts is seen.posts  # the facts read the posts made for the frame
    compare(seen)


def cast_source(frame: Frame) -> PostSource:
    assert isinstance(frame.source, PostSource)
    return frame.source


def test_a_frame_and_its_windows_share_their_posts() -> None:
    frame = _lazy(random_frame(random.Random(3), 80))
    other = frame.with_scope(frame.scope)
    assert other.source is frame.source
    facts.clear_cache()
    assert facts.facts(other) is facts.facts(frame)
    assert other.posts is frame.posts  # made once


def _changed(frame: Frame, rng: random.Random) -> Frame:
    """`frame` with one post by another person: as many posts, on the same dates."""
    posts = list(frame.posts)
    at = rng.randrange(len(posts))
    others = sorted({p.person for p in posts} - {posts[at].person}) or [posts[at].person + 1]
    posts[at] = posts[at]._replace(person=rng.choice(others))
    return Frame(frame.scope, posts, frame.undated, frame.persons, frame.threads, {})


@pytest.mark.parametrize("seed", range(20))
def test_the_facts_cache_tells_frames_apart(seed: int) -> None:
    rng = random.Random(seed)
    first = random_frame(rng, rng.choice((2, 12, 40, 120)))
    second = _changed(first, rng)
    lazy = [_lazy(first), _lazy(second), _lazy(first)]
    facts.clear_cache()
    made = [facts.facts(f) for f in lazy]
    assert len({id(m) for m in made}) == 3  # a frame decoded twice: two loaded frames
    for frame, found in zip(lazy, made, strict=True):
        theirs = columns(frame.posts)
        assert np.array_equal(found.columns.person, theirs.person)
        assert np.array_equal(found.columns.person_ids, theirs.person_ids)
        assert facts.facts(frame.with_scope(frame.scope)) is found
    persons = [m.columns.person_ids[m.columns.person].tolist() for m in made]
    assert persons[0] != persons[1] and persons[0] == persons[2]


def test_a_snapshot_pointing_outside_its_tables_is_refused_before_any_post() -> None:
    frame = random_frame(random.Random(5), 40)
    blob = frame_snapshot.encode(frame, KEY)
    assert blob is not None
    assert frame_snapshot.decode(blob, KEY, frame.scope).posts == frame.posts
    body_at = len(frame_snapshot.MAGIC) + 4
    (length,) = struct.unpack_from("<Q", blob, body_at)
    header = json.loads(blob[body_at + 8 : body_at + 8 + length])
    offset = body_at + 8 + length
    sections = {name: (typecode, stored) for name, typecode, stored, _ in header["sections"]}
    for name, _, stored, _ in header["sections"]:
        if name == "parents":
            break
        offset += stored
    typecode = sections["parents"][0]
    assert typecode in ("B", "H", "I", "q")
    width = {"B": 1, "H": 2, "I": 4, "q": 8}[typecode]
    top = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFFFFFF, "q": 2**62}[typecode]
    data = bytearray(blob)
    data[offset : offset + width] = top.to_bytes(width, "little")  # past the strings
    body = bytes(data[body_at:])
    forged = frame_snapshot.MAGIC + struct.pack("<I", zlib.crc32(body)) + body
    with pytest.raises(frame_snapshot.SnapshotError, match="outside its table"):
        frame_snapshot.decode(forged, KEY, frame.scope)
