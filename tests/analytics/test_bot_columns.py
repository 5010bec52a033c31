"""The bot scores over columns (`analytics.bot_columns`: issue 14, task PN) equal the
per-person loops they replaced (tests/analytics/legacy/bots.py, the code of 7a3c40a): on random
posts full of ties (hours, templates, names used as often), on random stores, and on real mail
with and without private access."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from analytics import bot_columns, bots
from store import visibility
from tests.analytics import legacy
from tests.analytics.legacy import bots as old
from tests.analytics.test_bots import MONTHS, _sync
from tests.conftest import PIPERMAIL

assert legacy  # the package of the references

SUBJECTS = (
    "[list] Weekly summary 12",
    "Re: [list] weekly   summary 13",
    "Help",
    "Re: help",
    "",
    "build #5 failed",
    "Fwd: build 7 failed",
    "a b c d e f",
    "A B C D",
    "re: Re: AW: status",
)
NAMES = ("Ann", "ann", "Bob", "", "Trac", "noreply", "Ann Smith")


def _samples(rng: random.Random) -> list[bots.Sample]:
    count = rng.randint(0, 300)
    keys = [f"k{i}" for i in range(count)]
    hours = rng.sample(range(24), 3)
    found = []
    for i, key in enumerate(keys):
        date = None if rng.random() < 0.05 else rng.randint(0, 40) * 86400
        if date is not None:
            date += rng.choice(hours) * 3600 + rng.randint(0, 3599)
        parent = rng.choice([None, "", "missing", *keys[max(0, i - 20) : i]])
        thread = rng.choice([None, "", "t1", "t2", "t3", "t4", key])
        found.append(
            bots.Sample(rng.randint(0, 6), key, date, thread, parent, rng.choice(SUBJECTS))
        )
    return found


@pytest.mark.parametrize("seed", range(60))
def test_scores_equal_the_loops_on_random_posts(seed: int) -> None:
    rng = random.Random(seed)
    samples = _samples(rng)
    senders = {p: tuple(rng.sample(NAMES, 2)) for p in range(7)}
    for min_posts in (1, 4, bots.MIN_POSTS):
        assert bots.score(samples, senders, min_posts=min_posts) == old.score(
            samples, senders, min_posts=min_posts
        )


def test_ties_go_to_the_first_used() -> None:
    """Two hours and two templates used as often: the first used is the person's (the
    reasons name it), whichever sorts first."""
    samples = [
        bots.Sample(1, f"k{i}", (i % 2 * 10 + 9) * 3600, f"t{i}", None, ("Zed 1", "Abc 2")[i % 2])
        for i in range(10)
    ]
    [found] = bots.score(samples, {1: ("bot@example.org",)})
    assert found == old.score(samples, {1: ("bot@example.org",)})[0]
    assert found.template == "zed #" and "between 09:00 and 09:59" in " ".join(found.reasons)


def _store(rng: random.Random) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE identities (id INTEGER PRIMARY KEY, kind, value, person)")
    conn.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, key, date, thread_id, parent_key, "
        "parent_direct, identity, subject, from_name)"
    )
    for i in range(1, 9):
        kind = rng.choice(["email", "email", "unknown"])
        conn.execute(
            "INSERT INTO identities VALUES (?, ?, ?, ?)",
            (i, kind, rng.choice(NAMES) + f"{i}@example.org", rng.randint(1, 4)),
        )
    for sample in _samples(rng):
        conn.execute(
            "INSERT INTO messages (key, date, thread_id, parent_key, parent_direct, identity, "
            "subject, from_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sample.key,
                sample.date,
                sample.thread,
                sample.parent,
                rng.choice([0, 1, None]),
                rng.choice([None, 99, *range(1, 9)]),
                sample.subject,
                rng.choice(NAMES),
            ),
        )
    return conn


@pytest.mark.parametrize("seed", range(30))
def test_store_scan_equals_the_loop_on_random_stores(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _store(random.Random(seed))
    monkeypatch.setattr(bot_columns, "CHUNK", 1 + seed % 7)  # rows read a few at a time
    viewer = visibility.EVERYTHING
    samples, senders = old._samples(conn, viewer)
    posts, found_senders = bot_columns.scan(conn, viewer)
    assert found_senders == senders
    for min_posts in (1, 3, bots.MIN_POSTS):
        assert bot_columns.score_posts(posts, found_senders, min_posts=min_posts) == old.score(
            samples, senders, min_posts=min_posts
        )


def test_scores_equal_the_loop_on_real_mail(tmp_path: Path) -> None:
    folder = PIPERMAIL / "twisted" / "twisted-python"
    volumes = [str(folder / f"2014-{m}.txt.gz") for m in MONTHS.split()[:6]]
    conn = _sync(tmp_path, "twisted-python", volumes)
    conn.execute("UPDATE lists SET private = 1")
    conn.execute(
        "INSERT INTO lists (name, source, created_at, private) "
        "SELECT 'other', source, created_at, 0 FROM lists"
    )
    # half of the messages are on a public list too: a reader without access sees those
    conn.execute(
        "INSERT INTO memberships (message, list, origin, position) SELECT id, (SELECT id "
        "FROM lists WHERE name = 'other'), 'test', 0 FROM messages WHERE id % 2 = 0"
    )
    for private in (True, False):
        viewer = visibility.for_reader(conn, include_private=private)
        bots.clear_cache()
        found = bots.scores(conn, viewer)
        assert found == old.score(*old._samples(conn, viewer))
        assert len(found) >= 5
