"""The reply network (`analytics.network`, issue 14 task PN: the bridging threads counted
with numpy on the facts' columns) equals the code it replaced (tests/analytics/legacy/
network.py, 7a3c40a) on random frames full of ties: names equal but for case, persons
without a name, windows, self-replies, replies into other threads."""

from __future__ import annotations

import random
from datetime import date

import pytest

from analytics import network
from analytics.frame import Frame, PersonRef
from analytics.scope import Scope
from tests.analytics.framekit import build
from tests.analytics.legacy import network as old

NAMES = ("Ann", "ann", "ANN", "Bob", "bob", "Carol", "Dan", "Eve")


def _frame(rng: random.Random) -> Frame:
    rows: list[tuple[str, str, str, int | None]] = []
    for number in range(1, rng.randint(1, 160)):
        when = f"2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00"
        parent = rng.randint(1, number - 1) if number > 1 and rng.random() < 0.7 else None
        rows.append((when, f"t{rng.randint(1, 6)}", rng.choice(NAMES), parent))
    built = build(rows)
    # names equal but for case, under keys in another order; one person left unnamed
    keys = rng.sample(range(100), len(built.persons))
    persons = {
        pid: PersonRef(pid, f"k{keys[i]:02d}", ref.name)
        for i, (pid, ref) in enumerate(built.persons.items())
        if pid != 3
    }
    start = date(2020, rng.randint(1, 6), 1) if rng.random() < 0.5 else None
    end = date(2020, rng.randint(7, 12), 1) if rng.random() < 0.5 else None
    scope = Scope(("alpha", "beta"), (1, 2), start=start, end=end)
    return Frame(scope, built.posts, 0, persons, built.threads, built.list_names)


@pytest.mark.parametrize("seed", range(80))
def test_network_equals_the_previous_code(seed: int) -> None:
    frame = _frame(random.Random(seed))
    for limit in (None, 1, 3, 50):
        assert network.network(frame, limit) == old.network(frame, limit)
        assert network.connectors(frame, limit) == old.connectors(frame, limit)
        assert network.edge_list(frame, limit) == old.edge_list(frame, limit)
        assert network.pair_list(frame, limit) == old.pair_list(frame, limit)


@pytest.mark.parametrize("seed", range(40))
def test_bridging_threads_equal_the_tuples(seed: int) -> None:
    frame = _frame(random.Random(seed))
    assert network._bridging_threads(frame) == network._bridging_pairs(frame)
    assert network._bridging_threads(frame) == old._bridging_threads(frame)


@pytest.mark.parametrize("seed", range(40))
def test_reply_counts_equal_the_previous_code_in_order(seed: int) -> None:
    """The pairs in the order they first occur (the rankings' last tie-break)."""
    frame = _frame(random.Random(seed))
    edges, replies, selfs = network.reply_counts(frame)
    before, replies_before, selfs_before = old.reply_counts(frame)
    assert list(edges.items()) == list(before.items())
    assert (replies, selfs) == (replies_before, selfs_before)
