"""Scopes: which lists a dashboard counts, and what an anonymous visitor may name."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.scope import ScopeError, UnknownScopeError, parse_day, resolve_scope
from store import communities
from store.store import Store


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.db")
    s.add_list("old", "mbox", paths=[])
    s.add_list("new", "mbox", paths=[])
    s.add_list("staff", "mbox", paths=[], private=True)
    communities.upsert(s.conn, "forum", ["old", "new"])
    communities.upsert(s.conn, "board", ["staff"])
    return s


def test_default_scope_is_every_visible_list(store: Store) -> None:
    assert resolve_scope(store.conn).lists == ("new", "old")
    assert resolve_scope(store.conn, include_private=True).lists == ("new", "old", "staff")
    assert resolve_scope(store.conn, community="forum").lists == ("new", "old")


def test_private_lists_and_their_communities_are_unknown_to_anonymous(store: Store) -> None:
    with pytest.raises(UnknownScopeError):
        resolve_scope(store.conn, lists=["staff"])
    with pytest.raises(UnknownScopeError):
        resolve_scope(store.conn, community="board")
    assert resolve_scope(store.conn, community="board", include_private=True).lists == ("staff",)
    with pytest.raises(UnknownScopeError):
        resolve_scope(store.conn, community="nosuch")


def test_dates(store: Store) -> None:
    scope = resolve_scope(store.conn, start=parse_day("2021-03-01"), end=parse_day("2021-03-01"))
    assert scope.start_ts == 1614556800 and scope.end_ts == 1614556800 + 86400
    assert scope.contains(1614556800) and not scope.contains(1614556800 + 86400)
    with pytest.raises(ScopeError):
        parse_day("March 2021")
    with pytest.raises(ScopeError):
        resolve_scope(store.conn, start=parse_day("2021-03-02"), end=parse_day("2021-03-01"))
