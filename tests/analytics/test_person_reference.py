"""One person's activity on the frame's columns (`analytics.person`: issue 14, task DB4) equals
the pass over the posts it replaced (tests/analytics/legacy/person.py, the code of 3917c4e):
for every person of random frames full of ties (posts at the same second, persons named alike
and keyed alike, unknown persons), loaded or read from their snapshot, with bots left out; and
on usrp-users' real mail with cross-posted, undated, unthreaded and removed messages and a bot,
the lists of a frame from its snapshot counted in SQL without making its posts."""

from __future__ import annotations

import random
import sqlite3
from datetime import date

import pytest

from analytics import facts, person
from analytics.frame import Frame, _without_bots, clear_cache, load_frame
from analytics.scope import resolve_scope
from store import bots, removals
from tests.analytics.legacy import person as old
from tests.analytics.test_fast_facts import random_frame
from tests.analytics.test_lazy_posts import _lazy
from tests.analytics.test_rosters import conn as conn  # noqa: F401  (the fixture)
from tests.support.usrp_migration import NEW, OLD


def _same(frame: Frame, reference: Frame, pid: int, conn: sqlite3.Connection | None = None) -> None:
    for period in ("month", "quarter", "year"):
        for limit in (None, 1, 3, 20):
            wanted = old.person_activity(reference, pid, period, limit)
            assert person.person_activity(frame, pid, period, limit, conn) == wanted


def _with_unknown_sender(rng: random.Random, frame: Frame) -> Frame:
    """Half of the time one person's posts made the unknown sender's (person 0, no
    `PersonRef`: a message without an identity), replies to them too."""
    posts = frame.posts
    if not posts or rng.random() < 0.5:
        return frame
    who = posts[0].person

    def unknown(pid: int | None) -> int | None:
        return 0 if pid == who else pid

    made = [
        p._replace(
            person=0 if p.person == who else p.person, parent_person=unknown(p.parent_person)
        )
        for p in posts
    ]
    persons = {k: v for k, v in frame.persons.items() if k != who}
    return Frame(frame.scope, made, frame.undated, persons, frame.threads, frame.list_names)


@pytest.mark.parametrize("seed", range(60))
def test_random_frames_as_the_posts_pass(seed: int) -> None:
    rng = random.Random(seed)
    frame = _with_unknown_sender(rng, random_frame(rng, rng.choice((0, 1, 2, 5, 12, 40, 120))))
    pids = sorted({p.person for p in frame.posts} | {p.parent_person or 0 for p in frame.posts})
    marked = frozenset(rng.sample(pids, rng.randint(0, min(2, len(pids)))))
    facts.clear_cache()
    for seen in (frame, _without_bots(frame, marked), _without_bots(_lazy(frame), marked)):
        reference = _without_bots(frame, marked) if seen is not frame else frame
        for pid in [*pids, 999_999_999]:  # and someone without a post
            _same(seen, reference, pid)


def test_ties_keep_the_order_of_first_use() -> None:
    """Persons replied to as often, named and keyed alike: the one answered first comes first
    (a Counter's order), not the smaller id."""
    rng = random.Random(7)
    for _ in range(40):
        frame = random_frame(rng, 120)
        for pid in {p.person for p in frame.posts}:
            found = person.person_activity(frame, pid, "month", None)
            assert found == old.person_activity(frame, pid, "month", None)


def _scramble(conn: sqlite3.Connection, rng: random.Random) -> None:
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM messages ORDER BY id")]
    old_list = conn.execute("SELECT id FROM lists WHERE name = ?", (OLD,)).fetchone()[0]
    for mid in rng.sample(ids, len(ids) // 4):
        change = rng.random()
        if change < 0.15:
            conn.execute("UPDATE messages SET date = NULL WHERE id = ?", (mid,))
        elif change < 0.3:
            conn.execute("UPDATE messages SET thread_id = NULL WHERE id = ?", (mid,))
        else:  # cross-posted
            conn.execute(
                "INSERT OR IGNORE INTO memberships (message, list, origin, position) "
                "VALUES (?, ?, 'test', 0)",
                (mid, old_list),
            )
    keys = [str(r[0]) for r in conn.execute("SELECT key FROM messages ORDER BY id")]
    removals.remove(conn, "message", "random", rng.sample(keys, 20), reason="t", actor="t")
    # a few persons take over others' addresses (as a merge does): several identities each,
    # their messages' dates interleaved
    ids_ = [int(r[0]) for r in conn.execute("SELECT id FROM identities ORDER BY id")]
    top = [int(r[0]) for r in conn.execute("SELECT id FROM persons ORDER BY id LIMIT 6")]
    for identity in rng.sample(ids_, len(ids_) // 3):
        conn.execute("UPDATE identities SET person = ? WHERE id = ?", (rng.choice(top), identity))
    persons = [str(r[0]) for r in conn.execute("SELECT key FROM persons ORDER BY id")]
    bots.mark(conn, rng.choice(persons[6:16]), "test")


@pytest.mark.parametrize("seed", range(4))
def test_real_mail_lists_in_sql(conn: sqlite3.Connection, seed: int) -> None:
    rng = random.Random(seed)
    if seed:
        _scramble(conn, rng)
    windows = ((None, None), (date(2021, 3, 20), None), (None, date(2021, 4, 15)))
    start, end = windows[seed % 3]
    clear_cache()
    facts.clear_cache()
    scope = resolve_scope(conn, lists=[OLD, NEW], include_private=True, start=start, end=end)
    frame = load_frame(conn, scope)
    lazy = _lazy(frame)
    posters = sorted({p.person for p in frame.posts})[:: 1 + seed]
    for pid in posters:
        _same(lazy, frame, pid, conn=conn)
    assert not isinstance(lazy.source, list) and not lazy.source.made  # counted in SQL


def test_a_changed_store_falls_back_on_the_posts(conn: sqlite3.Connection) -> None:
    """Lists counted in SQL that are not the frame's posts (a message stored since) are not
    used: the posts are made and read."""
    scope = resolve_scope(conn, lists=[OLD, NEW], include_private=True)
    frame = load_frame(conn, scope)
    top = max(
        {p.person for p in frame.posts}, key=lambda p: sum(q.person == p for q in frame.posts)
    )
    lazy = _lazy(frame)
    wanted = old.person_activity(frame, top)
    conn.execute(
        "UPDATE messages SET thread_id = NULL WHERE id = (SELECT min(m.id) FROM messages m "
        "JOIN identities i ON i.id = m.identity WHERE i.person = ?)",
        (top,),
    )
    assert person.person_lists(conn, lazy, top, wanted.messages) is None
    assert person.person_activity(lazy, top, conn=conn) == wanted
    assert not isinstance(lazy.source, list) and lazy.source.made
