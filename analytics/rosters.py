"""Roster reports: who is subscribed against who posts, on persons.

A roster member is matched to a person through their address (address -> identity ->
person); a member address that never posted has no person and is compared by its normalised
address.  For one list (its current roster):

- `members_never_posted`: members whose person has no post on that list (ever);
- `posters_not_members`: persons who posted on the list on or after `since` (default: one
  year before the roster's `as_of`) and none of whose addresses is on the roster;
  `posts_since` counts the list's posts in that window and `last_post` is its newest post's
  day, so that a window with no post at all (a closed archive) is said as such.

For a community's old and new list (both with a roster), `old_not_joined`: members of the
old list's roster who are not on the new list's roster, neither with the same address nor with
another address of the same person.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics.scope import Scope, resolve_scope
from store import bots, communities, rosters, visibility
from store.identities import ADDRESS
from store.roster_formats import RosterMember


class RosterReportError(ValueError):
    """No such list or community, or a list without a roster."""


@dataclass(frozen=True, slots=True)
class _People:
    person_of: dict[str, int]  # address -> person
    addresses: dict[int, list[str]]  # person -> addresses
    names: dict[int, tuple[str, str]]  # person -> (key, name)


def _people(
    conn: sqlite3.Connection, member_addresses: Iterable[str], posters: Iterable[int] = ()
) -> _People:
    """The persons of `member_addresses` (those that have an identity) and of `posters`,
    with their addresses and names: read for them only, not for the whole archive."""
    person_of: dict[str, int] = {}
    for part, marks in _chunks(sorted(set(member_addresses))):
        for value, person in conn.execute(
            f"SELECT value, person FROM identities WHERE kind = ? AND value IN ({marks})",
            [ADDRESS, *part],
        ):
            person_of[str(value)] = int(person)
    wanted = sorted(set(person_of.values()) | set(posters))
    addresses: dict[int, list[str]] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    for part, marks in _chunks(wanted):
        for person, value in conn.execute(
            f"SELECT person, value FROM identities WHERE kind = ? AND person IN ({marks}) "
            "ORDER BY value",
            [ADDRESS, *part],
        ):
            addresses[int(person)].append(str(value))
        for i, k, n in conn.execute(
            f"SELECT id, key, name FROM persons WHERE id IN ({marks})", part
        ):
            names[int(i)] = (str(k), str(n))
    return _People(person_of, dict(addresses), names)


def _chunks(values: list[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    for start in range(0, len(values), size):
        part = values[start : start + size]
        yield part, ",".join("?" * len(part))


def _day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def _member(m: RosterMember, people: _People) -> dict[str, Any]:
    person = people.person_of.get(m.address)
    key, name = people.names.get(person, ("", "")) if person is not None else ("", "")
    return {"address": m.address, "name": m.name, "person_key": key or None, "person_name": name}


@dataclass(frozen=True, slots=True)
class _Posts:
    posts: dict[int, int]  # person -> posts on the list
    recent: dict[int, int]  # person -> posts on or after the window's start
    last: dict[int, int]  # person -> date of their newest post
    in_window: int  # the list's posts on or after the start
    list_last: int | None  # the list's newest post


def _list_posts(conn: sqlite3.Connection, scope: Scope, start_ts: int) -> _Posts:
    """Per person, the posts of `scope` that its frame holds (`analytics.frame`: dated and
    threaded, not removed, not by a bot unless the scope includes them), counted in one
    aggregate over the lists' memberships (issue 14, task DB4): a frame of one list of a
    large archive is a pass over every message (1.2 s at 1M) for these few numbers."""
    viewer = visibility.for_reader(conn, include_private=scope.include_private)
    marks = ",".join("?" * len(scope.list_ids))
    rows = conn.execute(
        "SELECT coalesce(i.person, 0), count(*), max(m.date), sum(m.date >= ?) "
        "FROM messages m LEFT JOIN identities i ON i.id = m.identity "
        f"WHERE m.id IN (SELECT message FROM memberships WHERE list IN ({marks})) "
        f"AND m.date IS NOT NULL AND m.thread_id IS NOT NULL AND {viewer.not_removed('m')} "
        "GROUP BY 1",
        [start_ts, *scope.list_ids],
    ).fetchall()
    left_out = frozenset() if scope.include_bots else bots.bot_ids(conn)
    posts: dict[int, int] = {}
    recent: dict[int, int] = {}
    last: dict[int, int] = {}
    for person, count, newest, since in rows:
        if person in left_out:
            continue
        posts[person], recent[person], last[person] = count, since, newest
    return _Posts(posts, recent, last, sum(recent.values()), max(last.values()) if last else None)


def _roster_or_fail(conn: sqlite3.Connection, list_name: str) -> rosters.Roster:
    try:
        roster = rosters.current_roster(conn, list_name)
    except rosters.RosterError as exc:
        raise RosterReportError(str(exc)) from exc
    if roster is None:
        raise RosterReportError(f"list {list_name} has no roster: import one first")
    return roster


def list_report(
    conn: sqlite3.Connection, list_name: str, *, since: date | None = None
) -> dict[str, Any]:
    """The roster report of one list (see the module docstring)."""
    roster = _roster_or_fail(conn, list_name)
    members = rosters.members(conn, roster.id)
    start = since or date.fromisoformat(roster.as_of) - timedelta(days=365)
    start_ts = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    scope = resolve_scope(conn, lists=[list_name], include_private=True)
    counted = _list_posts(conn, scope, start_ts)
    posts, recent, last = counted.posts, counted.recent, counted.last
    member_addresses = {m.address for m in members}
    people = _people(conn, member_addresses, (p for p, n in recent.items() if n))
    member_persons = {people.person_of[a] for a in member_addresses if a in people.person_of}
    never = [
        _member(m, people)
        for m in members
        if people.person_of.get(m.address) is None or not posts.get(people.person_of[m.address])
    ]
    outsiders: list[dict[str, Any]] = []
    for person, count in recent.items():
        if not count or person in member_persons:
            continue
        key, name = people.names.get(person, ("", ""))
        own = people.addresses.get(person, [])
        if not key or not own:  # the unknown sender, or a name-only identity
            continue
        outsiders.append(
            {
                "person_key": key,
                "person_name": name,
                "addresses": own,
                "posts": count,
                "last_post": _day(last.get(person)),
            }
        )
    outsiders.sort(key=lambda r: (-r["posts"], r["person_name"].casefold(), r["person_key"]))
    return {
        "list": list_name,
        "roster": {
            "id": roster.id,
            "as_of": roster.as_of,
            "format": roster.format,
            "source": roster.source,
            "imported_at": roster.imported_at,
            "members": roster.members,
        },
        "since": start.isoformat(),
        # the posts on the list since `since`, and its newest post: a historical archive's
        # default window (a year before the roster's day) may hold none
        "posts_since": counted.in_window,
        "last_post": _day(counted.list_last),
        "summary": {
            "members": len(members),
            "members_who_posted": len(members) - len(never),
            "members_never_posted": len(never),
            "posters_not_members": len(outsiders),
        },
        "members_never_posted": never,
        "posters_not_members": outsiders,
    }


def old_not_joined(conn: sqlite3.Connection, old_list: str, new_list: str) -> list[dict[str, Any]]:
    """Members of the old list's current roster who are not on the new list's roster."""
    old = rosters.members(conn, _roster_or_fail(conn, old_list).id)
    new = rosters.members(conn, _roster_or_fail(conn, new_list).id)
    people = _people(conn, [m.address for m in [*old, *new]])
    new_addresses = {m.address for m in new}
    new_persons = {people.person_of[a] for a in new_addresses if a in people.person_of}
    return [
        _member(m, people)
        for m in old
        if m.address not in new_addresses and people.person_of.get(m.address) not in new_persons
    ]


def community_report(
    conn: sqlite3.Connection, name: str, *, since: date | None = None
) -> dict[str, Any]:
    """Both lists' reports and the old members who have not joined the new list."""
    try:
        community = communities.get(conn, name)
    except communities.CommunityError as exc:
        raise RosterReportError(str(exc)) from exc
    old, new, inferred = communities.old_and_new(conn, community)
    if not old or not new:
        raise RosterReportError(f"community {name}: which list is old and which is new is unknown")
    missing = old_not_joined(conn, old, new)
    return {
        "community": name,
        "old_list": old,
        "new_list": new,
        "old_new_inferred": inferred,
        "summary": {"old_not_joined": len(missing)},
        "old_not_joined": missing,
        "lists": [list_report(conn, old, since=since), list_report(conn, new, since=since)],
    }


REPORT_COLUMNS = (
    "kind",
    "list",
    "address",
    "name",
    "person_key",
    "person_name",
    "posts",
    "last_post",
)


def report_rows(report: dict[str, Any]) -> list[list[object]]:
    """A list or community report as one table (REPORT_COLUMNS), for CSV."""
    rows: list[list[object]] = []
    for m in report.get("old_not_joined", []):
        rows.append(
            [
                "old_not_joined",
                report["old_list"],
                m["address"],
                m["name"],
                m["person_key"],
                m["person_name"],
                None,
                None,
            ]
        )
    for part in report.get("lists") or [report]:
        for m in part["members_never_posted"]:
            rows.append(
                [
                    "member_never_posted",
                    part["list"],
                    m["address"],
                    m["name"],
                    m["person_key"],
                    m["person_name"],
                    0,
                    None,
                ]
            )
        for p in part["posters_not_members"]:
            rows.append(
                [
                    "poster_not_member",
                    part["list"],
                    " ".join(p["addresses"]),
                    "",
                    p["person_key"],
                    p["person_name"],
                    p["posts"],
                    p["last_post"],
                ]
            )
    return rows
