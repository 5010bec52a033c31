"""A list as the store describes it (`Store.lists`): `ListInfo` and the communities of each
list, in a module of their own so that `listarchive lists` imports neither the message
records (`store.records`, `store.models`: a dozen dataclasses, each ~1 ms to create at import)
nor the communities' writers (issue 14, CLI start-up; tests/cli/test_startup_imports.py).
`store.records.ListInfo` and `store.communities.of_lists` are these same objects."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: int
    name: str
    source: str
    url: str
    paths: tuple[str, ...]
    community: str
    created_at: str
    last_sync: str | None
    messages: int = 0
    address: str = ""
    """The list's posting address (HyperKitty needs it: its archives are keyed by address)."""
    private: bool = False
    """Archives that need a member login; their messages are never shown anonymously."""
    communities: tuple[str, ...] = ()
    """Every community it belongs to, by name (`community` is the first it joined)."""


def of_lists(conn: sqlite3.Connection) -> dict[int, tuple[str, ...]]:
    """Every list's communities (by list id), sorted by name; lists without one are absent."""
    found: dict[int, list[str]] = {}
    for list_id, community in conn.execute(
        "SELECT list, community FROM list_communities ORDER BY list, community"
    ):
        found.setdefault(int(list_id), []).append(str(community))
    return {list_id: tuple(names) for list_id, names in found.items()}
