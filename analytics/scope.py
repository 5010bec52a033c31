"""What a dashboard looks at: which lists (one list, a community, or every list the viewer may
see) and which date window (inclusive days, UTC)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from store import communities, visibility


class ScopeError(ValueError):
    """An unknown list or community, or a malformed date (callers answer 404 / 400)."""


class UnknownScopeError(ScopeError):
    """An unknown (or invisible) list or community: the web answers 404, other ScopeErrors 400."""


@dataclass(frozen=True, slots=True)
class Scope:
    lists: tuple[str, ...]
    list_ids: tuple[int, ...]
    community: str | None = None
    start: date | None = None
    end: date | None = None  # inclusive
    include_private: bool = False
    include_bots: bool = False  # count the posts of persons marked as bots (store.bots)

    @property
    def start_ts(self) -> int | None:
        if self.start is None:
            return None
        return int(
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp()
        )

    @property
    def end_ts(self) -> int | None:
        """Exclusive upper bound: midnight after `end`."""
        if self.end is None:
            return None
        after = self.end + timedelta(days=1)
        return int(datetime(after.year, after.month, after.day, tzinfo=UTC).timestamp())

    def contains(self, ts: int) -> bool:
        start, end = self.start_ts, self.end_ts
        return (start is None or ts >= start) and (end is None or ts < end)

    @property
    def label(self) -> str:
        what = (
            f"community {self.community}"
            if self.community
            else ", ".join(self.lists) or "all lists"
        )
        if self.start or self.end:
            what += f" from {self.start or 'the start'} to {self.end or 'now'}"
        return what

    def as_dict(self) -> dict[str, object]:
        return {
            "lists": list(self.lists),
            "community": self.community,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "bots": "included" if self.include_bots else "excluded",
        }


def parse_day(value: str | None, what: str = "date") -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ScopeError(f"{what} must be a day written YYYY-MM-DD, not {value!r}") from exc


def resolve_scope(
    conn: sqlite3.Connection,
    *,
    lists: Sequence[str] = (),
    community: str | None = None,
    start: date | None = None,
    end: date | None = None,
    include_private: bool = False,
    include_bots: bool = False,
) -> Scope:
    """The scope for the given list names and/or community (none: every visible list)."""
    viewer = visibility.for_reader(conn, include_private=include_private)
    rows = conn.execute("SELECT id, name FROM lists ORDER BY name").fetchall()
    visible = [r for r in rows if viewer.shows_list(str(r[1]))]
    by_name = {str(r[1]): int(r[0]) for r in visible}
    chosen: dict[str, int] = {}
    for name in lists:
        if name not in by_name:
            raise UnknownScopeError(f"unknown list {name!r}")
        chosen[name] = by_name[name]
    if community:
        # a list may be in several communities: membership is store.communities'
        in_community = set(communities.member_ids(conn, community))
        members = {str(r[1]): int(r[0]) for r in visible if r[0] in in_community}
        known = conn.execute("SELECT 1 FROM communities WHERE name = ?", (community,)).fetchone()
        hidden = bool(in_community) and not members
        if (not members and not known) or hidden:  # a community of private lists only
            raise UnknownScopeError(f"unknown community {community!r}")
        chosen.update(members)
    if not lists and not community:
        chosen = dict(by_name)
    if start and end and end < start:
        raise ScopeError(f"the end ({end}) is before the start ({start})")
    names = tuple(sorted(chosen))
    return Scope(
        lists=names,
        list_ids=tuple(chosen[n] for n in names),
        community=community or None,
        start=start,
        end=end,
        include_private=include_private,
        include_bots=include_bots,
    )
