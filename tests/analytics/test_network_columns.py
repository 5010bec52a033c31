"""The reply network over the edge arrays (issue 14, task DB3: no `Post` made, the rankings'
counts by numpy, the names compared for the candidates only) equals the code it replaced
(tests/analytics/legacy/network_pn.py, 3917c4e) on random frames full of ties: names equal
but for case, persons of equal keys and unknown persons (ties of the whole key: the previous
code's order decides), replies to persons outside the scope, windows; on frames read from
their snapshot (whose posts it must not make) and on real mail."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from datetime import date

import pytest

from analytics import frame_snapshot, network
from analytics.frame import Frame, PersonRef, Post, load_frame
from analytics.frame_posts import PostSource
from analytics.scope import Scope, resolve_scope
from tests.analytics.legacy import network_pn as old
from tests.analytics.test_fast_facts import random_frame

KEY = "lists=1,2;private=1;hidden="
LIMITS = (None, 0, 1, 2, 3, 5, 50)


def _outside(frame: Frame, rng: random.Random) -> Frame:
    """`frame` with some replies to persons who never post in it (a parent on another list),
    some unknown, and more persons of equal names and keys."""
    outsiders = [rng.randint(1, 10**9) for _ in range(rng.randint(1, 4))]
    posts = [
        p._replace(parent_person=rng.choice(outsiders)) if rng.random() < 0.15 else p
        for p in frame.posts
    ]
    persons = dict(frame.persons)
    for pid in outsiders:
        if rng.random() < 0.5:
            persons[pid] = PersonRef(pid, rng.choice(("k-a", "", f"k-{pid}")), "Ann")
    return replace(frame, source=PostSource(posts), persons=persons, columns=None)


def _lazy(frame: Frame) -> Frame:
    blob = frame_snapshot.encode(frame, KEY)
    assert blob is not None
    return frame_snapshot.decode(blob, KEY, frame.scope)


def _same(frame: Frame) -> None:
    for limit in LIMITS:
        assert network.network(frame, limit) == old.network(frame, limit), limit
        assert network.connectors(frame, limit) == old.connectors(frame, limit), limit
        assert network.edge_list(frame, limit) == old.edge_list(frame, limit), limit
        assert network.pair_list(frame, limit) == old.pair_list(frame, limit), limit
    edges, replies, selfs = network.reply_counts(frame)
    before, replies_before, selfs_before = old.reply_counts(frame)
    assert list(edges.items()) == list(before.items())  # in the order they first occur
    assert (replies, selfs) == (replies_before, selfs_before)
    # the caller's edges and orders (the page's CSV twins pass none; `network` did)
    orders = network._orders(frame, edges)
    assert network.connectors(frame, 3, edges, orders) == old.connectors(frame, 3, edges, orders)
    assert network.edge_list(frame, 3, edges, orders) == old.edge_list(frame, 3, edges, orders)
    assert network.pair_list(frame, 3, edges, orders) == old.pair_list(frame, 3, edges, orders)


@pytest.mark.parametrize("seed", range(120))
def test_the_network_equals_the_previous_code(seed: int) -> None:
    rng = random.Random(seed)
    frame = random_frame(rng, rng.choice((0, 1, 5, 40, 300)))
    if rng.random() < 0.6:
        frame = _outside(frame, rng)
    _same(frame)


@pytest.mark.parametrize("seed", range(30))
def test_a_frame_from_its_snapshot_gives_the_same_network_without_its_posts(seed: int) -> None:
    rng = random.Random(1000 + seed)
    eager = _outside(random_frame(rng, rng.choice((3, 60, 300))), rng)
    lazy = _lazy(eager)
    found = [network.network(lazy, limit) for limit in LIMITS]
    assert isinstance(lazy.source, PostSource) and not lazy.source.made
    assert found == [old.network(eager, limit) for limit in LIMITS]


def test_persons_of_equal_keys_are_two_pairs_when_each_answers_the_other() -> None:
    """Two unknown persons (key ''): each direction is a pair of its own, as before."""
    frame = random_frame(random.Random(5), 0)
    rows = [(2, 1, 3), (3, 1, 2), (2, 1, 3), (4, 1, 2)]
    posts = [
        frame_post._replace(person=who, parent_person=to)
        for frame_post, (who, _, to) in zip(_posts(len(rows)), rows, strict=True)
    ]
    persons = {4: PersonRef(4, "k-d", "Dan")}
    scope = Scope(("alpha", "beta"), (1, 2))
    found = replace(frame, scope=scope, source=PostSource(posts), persons=persons, columns=None)
    pairs = network.pair_list(found, None)
    assert pairs == old.pair_list(found, None)
    assert [(p.a_to_b, p.b_to_a) for p in pairs] == [(2, 0), (1, 0), (0, 1)]


def _posts(n: int) -> list[Post]:
    return [Post(i, f"m{i}", 1_600_000_000 + i, "T", None, 1, None, (1,)) for i in range(1, n + 1)]


def test_real_mail_gives_the_same_network(twisted_db: sqlite3.Connection) -> None:
    sizes = []
    for start, end in ((None, None), (date(2018, 10, 1), None), (None, date(2018, 10, 1))):
        scope = resolve_scope(twisted_db, lists=["twisted-python"], start=start, end=end)
        frame = load_frame(twisted_db, scope)
        _same(frame)
        _same(_lazy(frame))
        sizes.append(network.network(frame).edges_total)
    assert sizes[0] == 18 and 0 < min(sizes[1:]) < 18  # a pair may answer in both windows
