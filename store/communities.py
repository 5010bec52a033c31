"""Communities: groups of lists (e.g. a forum's old and new list) with optional cutover and close
dates; search, threads and statistics can be scoped to one."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


class CommunityError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Community:
    name: str
    lists: tuple[str, ...]
    cutover: str | None
    closed: str | None


def upsert(
    conn: sqlite3.Connection,
    name: str,
    lists: Sequence[str],
    cutover: str | None = None,
    closed: str | None = None,
) -> Community:
    """Create or update a community and make `lists` (which must exist) its members."""
    known = {row[0] for row in conn.execute("SELECT name FROM lists")}
    missing = [n for n in lists if n not in known]
    if missing:
        raise CommunityError(f"unknown list(s): {', '.join(missing)}")
    if cutover and closed and closed < cutover:
        raise CommunityError(f"community {name}: closed ({closed}) is before cutover ({cutover})")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO communities (name, cutover, closed, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET cutover = excluded.cutover, "
            "closed = excluded.closed",
            (name, cutover or None, closed or None, datetime.now(UTC).isoformat()),
        )
        conn.execute("UPDATE lists SET community = '' WHERE community = ?", (name,))
        conn.executemany(
            "UPDATE lists SET community = ? WHERE name = ?", [(name, n) for n in lists]
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return get(conn, name)


def get(conn: sqlite3.Connection, name: str) -> Community:
    for community in all_communities(conn):
        if community.name == name:
            return community
    raise CommunityError(f"unknown community {name!r}")


def all_communities(conn: sqlite3.Connection) -> list[Community]:
    members: dict[str, list[str]] = {}
    for list_name, community in conn.execute(
        "SELECT name, community FROM lists WHERE community != '' ORDER BY name"
    ):
        members.setdefault(community, []).append(list_name)
    rows = conn.execute("SELECT name, cutover, closed FROM communities ORDER BY name").fetchall()
    declared = {r[0] for r in rows}
    result = [Community(r[0], tuple(members.get(r[0], [])), r[1], r[2]) for r in rows]
    # lists may name a community (`lists add --community C`) before it is declared
    result += [Community(n, tuple(m), None, None) for n, m in members.items() if n not in declared]
    return sorted(result, key=lambda c: c.name)
