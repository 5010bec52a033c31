"""`analytics.frame_sql.read`'s two ways of reading a scope's messages (task DB5): one pass
over every message (a large scope) or its members by id (a small one) give the same frame,
field by field, and so does any order the rows come in (a reply read before its parent).

The store is real mail: twisted-python's 2018-October volume synced first as its own list
(so its replies to September messages get the lower ids: read before their parents), then
2018-September and October as a second list (October's messages cross-posted to both),
a twisted-web volume as a third, private list; one message removed."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics import frame_sql
from analytics.scope import Scope, resolve_scope
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import removals
from store.store import Store
from tests.conftest import PIPERMAIL

TP = PIPERMAIL / "twisted" / "twisted-python"
WEB = PIPERMAIL / "twisted" / "twisted-web"
LISTS = {
    "tp-october": [TP / "2018-October.txt.gz"],
    "tp": [TP / "2018-September.txt.gz", TP / "2018-October.txt.gz"],
    "web": [WEB / "2018-June.txt.gz"],
}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for paths in LISTS.values():
        if not all(p.is_file() for p in paths):
            pytest.fail(f"corpus not found: {paths}")
    path = tmp_path_factory.mktemp("frame_sql") / "store.db"
    store = Store(path)
    try:
        for name, paths in LISTS.items():
            volumes = [str(p) for p in paths]
            store.add_list(name, "mbox", paths=volumes, private=name == "web")
            assert sync_list(store, name, MboxSource(volumes), workers=1).clean
        # a parent removed: its replies then answer a message the reader does not see
        (key,) = store.conn.execute(
            "SELECT p.key FROM messages p JOIN messages r ON r.parent_key = p.key "
            "ORDER BY p.id LIMIT 1"
        ).fetchone()
        removals.remove(store.conn, "message", key, [key], reason="test", actor="test")
    finally:
        store.close()
    return path


@pytest.fixture()
def conn(store_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    yield conn
    conn.close()


def _read(conn: sqlite3.Connection, scope: Scope, share: float) -> frame_sql.Loaded:
    saved = frame_sql.BY_MEMBERSHIP_SHARE
    frame_sql.BY_MEMBERSHIP_SHARE = share
    try:
        return frame_sql.read(conn, scope)
    finally:
        frame_sql.BY_MEMBERSHIP_SHARE = saved


def _assert_equal(got: frame_sql.Loaded, want: frame_sql.Loaded) -> None:
    names = ("posts", "undated", "persons", "threads", "names", "undated_by")
    for name, a, b in zip(names, got, want, strict=True):
        assert a == b, name
    assert [tuple(p) for p in got[0]] == [tuple(p) for p in want[0]]


def _scopes(conn: sqlite3.Connection) -> list[Scope]:
    rng = random.Random(5)
    names = list(LISTS)
    scopes = [resolve_scope(conn, include_private=True), resolve_scope(conn)]
    for _ in range(8):
        chosen = rng.sample(names, rng.randint(1, len(names)))
        scopes.append(resolve_scope(conn, lists=chosen, include_private=True))
    return scopes


def test_the_store_has_what_the_paths_can_differ_on(conn: sqlite3.Connection) -> None:
    cross = conn.execute(
        "SELECT count(*) FROM "
        "(SELECT message FROM memberships GROUP BY message HAVING count(*) > 1)"
    ).fetchone()[0]
    early = conn.execute(
        "SELECT count(*) FROM messages r JOIN messages p ON p.key = r.parent_key WHERE r.id < p.id"
    ).fetchone()[0]
    gone = conn.execute("SELECT count(*) FROM removals").fetchone()[0]
    assert cross > 20 and early > 0 and gone == 1


def test_by_id_and_one_pass_give_the_same_frame(conn: sqlite3.Connection) -> None:
    for scope in _scopes(conn):
        full = _read(conn, scope, 0.0)  # members >= 0: always the one pass
        small = _read(conn, scope, 2.0)  # members < 2 x the last id: always by id
        assert full[0] or not scope.list_ids
        _assert_equal(small, full)


def test_the_order_rows_are_read_in_changes_nothing(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = frame_sql._rows
    rng = random.Random(14)
    for scope in _scopes(conn):
        want = frame_sql.read(conn, scope)
        for _ in range(3):

            def shuffled(*args: Any) -> list[Any]:
                got = list(rows(*args))
                rng.shuffle(got)
                return got

            monkeypatch.setattr(frame_sql, "_rows", shuffled)
            _assert_equal(frame_sql.read(conn, scope), want)
            monkeypatch.setattr(frame_sql, "_rows", rows)


def _passes(conn: sqlite3.Connection, scope: Scope) -> list[str]:
    queries: list[str] = []
    conn.set_trace_callback(queries.append)
    try:
        frame_sql.read(conn, scope)
    finally:
        conn.set_trace_callback(None)
    return [q for q in queries if "INDEXED BY messages_frame" in q]


def test_a_small_scope_is_read_by_id_and_the_archive_in_one_pass(
    conn: sqlite3.Connection,
) -> None:
    last = conn.execute("SELECT max(id) FROM messages").fetchone()[0]
    small = resolve_scope(conn, lists=["web"], include_private=True)
    members = conn.execute(
        "SELECT count(*) FROM memberships WHERE list = ?", small.list_ids
    ).fetchone()[0]
    assert members < frame_sql.BY_MEMBERSHIP_SHARE * last
    (by_id,) = _passes(conn, small)
    assert "WHERE m.id IN (SELECT message FROM memberships" in by_id
    (whole,) = _passes(conn, resolve_scope(conn, include_private=True))
    assert "WHERE" not in whole


def test_posts_made_in_c_have_every_field() -> None:
    """frame_sql makes its posts by `tuple.__new__(Post, values)` (no Python call a post):
    that skips the named tuple's arity check, so a field added to `Post` would silently make
    short posts there.  This fails first: update frame_sql's tuples with the new field."""
    from analytics.frame_posts import Post

    assert Post._fields == (
        "id",
        "key",
        "date",
        "thread",
        "parent",
        "person",
        "parent_person",
        "lists",
    )
