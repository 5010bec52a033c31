"""Reading persons: the directory (with message counts) and one person's identities, and
persons as one reader may see them (`has_visible_post`, `VisibleNames`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from store import removal_marks
from store.names import fold, normalize_address
from store.visibility import Visibility, not_removed

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PersonRow:
    key: str
    name: str
    messages: int
    first: int | None
    last: int | None
    addresses: tuple[str, ...]


def person_rows(conn: sqlite3.Connection) -> list[PersonRow]:
    """Every live person who has posted, busiest first (then by name and key), with their
    non-removed messages counted and their addresses: the directory before any search."""
    # with nothing removed the test is true of every message: left out, the messages are read
    # from the index by identity, not each one's key (1M: 1.01 -> 0.56 s)
    kept_only = not_removed("m") if removal_marks.any_active(conn) else "1"
    rows = conn.execute(
        f"""
        SELECT p.id, p.key, p.name, COUNT(m.id), MIN(m.date), MAX(m.date)
        FROM persons p
        JOIN identities i ON i.person = p.id
        JOIN messages m ON m.identity = i.id
        WHERE p.merged_into IS NULL AND {kept_only}
        GROUP BY p.id
        """
    ).fetchall()
    addresses: dict[int, list[str]] = {}
    for person, value in conn.execute(
        "SELECT person, value FROM identities WHERE kind = 'address' ORDER BY value"
    ):
        addresses.setdefault(int(person), []).append(str(value))
    found = [
        PersonRow(str(key), str(name), int(count), first, last, tuple(addresses.get(int(pid), ())))
        for pid, key, name, count, first, last in rows
    ]
    found.sort(key=lambda r: (-r.messages, r.name.casefold(), r.key))
    return found


def list_persons(
    conn: sqlite3.Connection,
    *,
    search: str = "",
    limit: int = 100,
    offset: int = 0,
    rows: Sequence[PersonRow] | None = None,
) -> tuple[int, list[PersonRow]]:
    """(total, one page) of live persons who have posted, busiest first; `search` matches
    names, addresses and keys (accent- and case-insensitive); `rows`: `person_rows(conn)`
    when the caller has them (the web UI keeps them per state of the archive).  Personal
    data: callers show this to logged-in roles only."""
    everyone = person_rows(conn) if rows is None else rows
    needle = fold(search.strip())
    address_needle = normalize_address(search) or needle
    found = [
        r
        for r in everyone
        if not needle
        or needle in fold(r.name)
        or any(address_needle in a for a in r.addresses)
        or needle == r.key
    ]
    return len(found), found[offset : offset + limit]


def has_visible_post(conn: sqlite3.Connection, person: int, viewer: Visibility) -> bool:
    """`person` sent a message `viewer` may read (a person without one does not exist for it)."""
    row = conn.execute(
        "SELECT 1 FROM identities i JOIN messages m ON m.identity = i.id "
        f"WHERE i.person = ? AND {viewer.messages('m')} LIMIT 1",
        (person,),
    ).fetchone()
    return row is not None


class VisibleNames:
    """Display names as one reader may see them: a person with a post the reader may not read
    (on a private list, or removed) is named from the posts it may read
    (`store.identities.display_names`), others keep their stored name (computed from posts that
    are all visible).  Which persons have such posts is read once, from the private lists'
    memberships and the removals (not from every message)."""

    def __init__(self, conn: sqlite3.Connection, viewer: Visibility) -> None:
        self.conn, self.viewer = conn, viewer
        self._tainted: frozenset[int] | None = None

    def tainted(self) -> frozenset[int]:
        """Persons with at least one post this reader may not read (or on a private list)."""
        if self._tainted is None:
            parts: list[str] = []
            if not self.viewer.include_private:
                parts.append(
                    "SELECT i.person FROM lists l JOIN memberships ms ON ms.list = l.id "
                    "JOIN messages m ON m.id = ms.message JOIN identities i ON i.id = m.identity "
                    "WHERE l.private"
                )
            if self.viewer.removals:
                parts.append(
                    "SELECT i.person FROM messages m JOIN identities i ON i.id = m.identity "
                    f"WHERE m.key IN ({removal_marks.ACTIVE_KEYS})"
                )
            found: set[int] = set()
            if parts:
                found = {int(r[0]) for r in self.conn.execute(" UNION ".join(parts))}
            self._tainted = frozenset(found)
        return self._tainted

    def names(self, stored: dict[int, str]) -> dict[int, str]:
        """`stored` (person id -> stored name) with the names of tainted persons replaced."""
        if not self.viewer.hides_messages:
            return stored
        from store.identities import display_names  # not imported by a plain search

        redo = sorted(p for p in stored if p in self.tainted())
        out = dict(stored)
        visible = self.viewer.messages("m")
        for start in range(0, len(redo), _CHUNK):
            out.update(display_names(self.conn, redo[start : start + _CHUNK], visible))
        return out


def visible_names(
    conn: sqlite3.Connection, persons: Collection[int], viewer: Visibility
) -> dict[int, str]:
    """The display name of each of `persons` as `viewer` may see it (see `VisibleNames`)."""
    wanted = sorted(set(persons))
    stored: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(part))
        for pid, name in conn.execute(f"SELECT id, name FROM persons WHERE id IN ({marks})", part):
            stored[int(pid)] = str(name)
    return VisibleNames(conn, viewer).names(stored)
