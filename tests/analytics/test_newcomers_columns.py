"""/stats/people's tables without `Post` objects (issue 14, task DB3): the newcomers and
their count from the facts' columns, and the posters shown ranked for the few shown, equal the
code they replaced (tests/analytics/legacy/cohorts_newcomers.py, 3917c4e) on random frames
full of ties (posts at the same second, persons of equal names and keys, unknown persons,
windows), on frames read from their snapshot (whose posts they must not make) and on real
mail."""

from __future__ import annotations

import random
import sqlite3
from datetime import date

import pytest

from analytics import cohorts, frame_snapshot
from analytics.frame import Frame, load_frame
from analytics.frame_posts import PostSource
from analytics.scope import resolve_scope
from tests.analytics.legacy import cohorts_newcomers as old
from tests.analytics.test_fast_facts import random_frame
from tests.analytics.test_network_reference import _frame as network_frame
from webui.stats_pages import _posters

KEY = "lists=1,2;private=1;hidden="
LIMITS = (None, 0, 1, 2, 3, 7, 50)


def _lazy(frame: Frame) -> Frame:
    blob = frame_snapshot.encode(frame, KEY)
    assert blob is not None
    return frame_snapshot.decode(blob, KEY, frame.scope)


def _hidden(frame: Frame, rng: random.Random) -> set[str]:
    keys = sorted({ref.key for ref in frame.persons.values()})
    return set(rng.sample(keys, rng.randint(0, len(keys)))) | {"k-nobody"}


def _same(frame: Frame, rng: random.Random) -> None:
    for limit in LIMITS:
        assert cohorts.newcomers(frame, limit) == old.newcomers(frame, limit), limit
    assert cohorts.newcomer_count(frame) == old.newcomer_count(frame)
    for _ in range(3):
        hidden = _hidden(frame, rng) if rng.random() < 0.8 else set()
        for limit in (1, 2, 3, 20):
            assert _posters(frame, limit, hidden) == old.posters(frame, limit, hidden)


@pytest.mark.parametrize("seed", range(100))
def test_newcomers_and_posters_equal_the_previous_code(seed: int) -> None:
    rng = random.Random(seed)
    if rng.random() < 0.5:
        frame = random_frame(rng, rng.choice((0, 1, 4, 30, 200)))
    else:
        frame = network_frame(rng)
    _same(frame, rng)


@pytest.mark.parametrize("seed", range(30))
def test_a_frame_from_its_snapshot_gives_them_without_its_posts(seed: int) -> None:
    rng = random.Random(500 + seed)
    eager = random_frame(rng, rng.choice((3, 60, 300)))
    lazy = _lazy(eager)
    found = [cohorts.newcomers(lazy, limit) for limit in LIMITS], cohorts.newcomer_count(lazy)
    hidden = _hidden(eager, rng)
    shown = _posters(lazy, 3, hidden)
    assert isinstance(lazy.source, PostSource) and not lazy.source.made
    expected = [old.newcomers(eager, limit) for limit in LIMITS], old.newcomer_count(eager)
    assert found == expected
    assert shown == old.posters(eager, 3, hidden)


def test_a_hidden_key_on_several_posters_still_shows_the_limit() -> None:
    """Persons of equal keys (unknown ones: ''): hiding the key hides each of them, and the
    rows after them fill the page."""
    for seed in range(200):
        rng = random.Random(seed)
        frame = random_frame(rng, 120)
        keys = [ref.key for ref in frame.persons.values()]
        shared = {k for k in keys if keys.count(k) > 1}
        if shared:
            hidden = {shared.pop()}
            assert _posters(frame, 2, hidden) == old.posters(frame, 2, hidden)
            return
    pytest.fail("no frame with persons of equal keys")


def test_real_mail_gives_the_same_tables(twisted_db: sqlite3.Connection) -> None:
    rng = random.Random(7)
    for start, end in ((None, None), (date(2018, 10, 1), None), (None, date(2018, 10, 1))):
        scope = resolve_scope(twisted_db, lists=["twisted-python"], start=start, end=end)
        frame = load_frame(twisted_db, scope)
        _same(frame, rng)
        _same(_lazy(frame), rng)
    assert cohorts.newcomer_count(frame) > 5
