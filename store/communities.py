"""Communities: groups of lists (e.g. a forum's old and new list) with optional cutover and close
dates; search, threads and statistics can be scoped to one.

A community that moved lists names its `old_list` and `new_list` (both members).  When they are
not given and the community has exactly two lists, `old_and_new` infers them: the list whose
first post is the earliest is the old one (ties: by name).  Nothing is inferred for one list,
three or more lists, or while a list has no post yet.

A list may belong to several communities (a forum and the umbrella it is part of):
memberships are rows of `list_communities`, and declaring one community (`upsert`) never
touches another's.  `lists.community` is kept as the list's first community (the one it
joined first while it is still a member, else the first by name) for the shapes that show one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from store import naming
from store.list_info import of_lists as of_lists  # where `lists` reads it (issue 14)


class CommunityError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Community:
    name: str
    lists: tuple[str, ...]
    cutover: str | None
    closed: str | None
    old_list: str | None = None
    """As declared (`--old`); `old_and_new` also infers it."""
    new_list: str | None = None


def resolve_old_new(
    name: str, lists: Sequence[str], old: str | None, new: str | None
) -> tuple[str | None, str | None]:
    """Validate `old`/`new`; with two lists, one of them names the other."""
    for what, value in (("old", old), ("new", new)):
        if value and value not in lists:
            raise CommunityError(
                f"community {name}: the {what} list {value!r} is not one of its lists"
            )
    if old and new and old == new:
        raise CommunityError(f"community {name}: the old and the new list are the same ({old})")
    if len(lists) == 2 and bool(old) != bool(new):
        other = [n for n in lists if n != (old or new)][0]
        old, new = (old, other) if old else (other, new)
    return old or None, new or None


def upsert(
    conn: sqlite3.Connection,
    name: str,
    lists: Sequence[str],
    cutover: str | None = None,
    closed: str | None = None,
    *,
    old_list: str | None = None,
    new_list: str | None = None,
) -> Community:
    """Create or update a community and make `lists` (which must exist) its members."""
    problem = naming.name_problem(name, "community")
    if problem is not None:
        raise CommunityError(problem)
    known = {row[0] for row in conn.execute("SELECT name FROM lists")}
    missing = [n for n in lists if n not in known]
    if missing:
        raise CommunityError(f"unknown list(s): {', '.join(missing)}")
    if cutover and closed and closed < cutover:
        raise CommunityError(f"community {name}: closed ({closed}) is before cutover ({cutover})")
    old_list, new_list = resolve_old_new(name, lists, old_list, new_list)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO communities (name, cutover, closed, created_at, old_list, new_list) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET cutover = excluded.cutover, "
            "closed = excluded.closed, old_list = excluded.old_list, "
            "new_list = excluded.new_list",
            (
                name,
                cutover or None,
                closed or None,
                datetime.now(UTC).isoformat(),
                old_list,
                new_list,
            ),
        )
        conn.execute(
            "DELETE FROM list_communities WHERE community = ? AND list NOT IN "
            f"(SELECT id FROM lists WHERE name IN ({', '.join('?' * len(lists))}))",
            (name, *lists),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO list_communities (list, community) "
            "SELECT id, ? FROM lists WHERE name = ?",
            [(name, n) for n in lists],
        )
        refresh_first(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return get(conn, name)


def join(conn: sqlite3.Connection, list_id: int, community: str) -> None:
    """Make the list a member of `community` too (its other memberships stay); within the
    caller's transaction."""
    conn.execute(
        "INSERT OR IGNORE INTO list_communities (list, community) VALUES (?, ?)",
        (list_id, community),
    )
    refresh_first(conn)


def refresh_first(conn: sqlite3.Connection) -> None:
    """Keep `lists.community` one of the list's communities: unchanged while the list is
    still a member of it, else its first community by name ('' for none)."""
    conn.execute(
        "UPDATE lists SET community = coalesce((SELECT min(lc.community) FROM "
        "list_communities lc WHERE lc.list = lists.id), '') "
        "WHERE community NOT IN (SELECT lc.community FROM list_communities lc "
        "WHERE lc.list = lists.id) "
        "AND (community != '' OR id IN (SELECT list FROM list_communities))"
    )


def member_ids(conn: sqlite3.Connection, community: str) -> list[int]:
    """The ids of the lists of `community`."""
    return [
        int(r[0])
        for r in conn.execute(
            "SELECT list FROM list_communities WHERE community = ? ORDER BY list", (community,)
        )
    ]


def get(conn: sqlite3.Connection, name: str) -> Community:
    for community in all_communities(conn):
        if community.name == name:
            return community
    raise CommunityError(f"unknown community {name!r}")


def all_communities(conn: sqlite3.Connection) -> list[Community]:
    members: dict[str, list[str]] = {}
    for list_name, community in conn.execute(
        "SELECT l.name, lc.community FROM list_communities lc JOIN lists l ON l.id = lc.list "
        "ORDER BY l.name"
    ):
        members.setdefault(community, []).append(list_name)
    rows = conn.execute(
        "SELECT name, cutover, closed, old_list, new_list FROM communities ORDER BY name"
    ).fetchall()
    declared = {r[0] for r in rows}
    result = [
        Community(r[0], tuple(members.get(r[0], [])), r[1], r[2], r[3] or None, r[4] or None)
        for r in rows
    ]
    # lists may name a community (`lists add --community C`) before it is declared
    result += [Community(n, tuple(m), None, None) for n, m in members.items() if n not in declared]
    return sorted(result, key=lambda c: c.name)


def old_and_new(
    conn: sqlite3.Connection, community: Community
) -> tuple[str | None, str | None, bool]:
    """(old list, new list, inferred): as declared, else inferred from the first posts of a
    two-list community; (None, None, False) when neither is possible.  A declared list that
    has left the community since is ignored."""
    old = community.old_list if community.old_list in community.lists else None
    new = community.new_list if community.new_list in community.lists else None
    if old and new:
        return old, new, False
    if len(community.lists) != 2:
        return old, new, False
    firsts = {
        str(name): first
        for name, first in conn.execute(
            "SELECT l.name, MIN(m.date) FROM lists l JOIN memberships ms ON ms.list = l.id "
            "JOIN messages m ON m.id = ms.message WHERE l.name IN (?, ?) AND m.date IS NOT NULL "
            "GROUP BY l.id",
            community.lists,
        )
    }
    if len(firsts) != 2:
        return old, new, False
    first, second = sorted(community.lists, key=lambda n: (firsts[n], n))
    return first, second, True
