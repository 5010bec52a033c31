"""Reading persons: the directory (with message counts) and one person's identities."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from store.names import fold, normalize_address
from store.visibility import not_removed


@dataclass(frozen=True, slots=True)
class PersonRow:
    key: str
    name: str
    messages: int
    first: int | None
    last: int | None
    addresses: tuple[str, ...]


def list_persons(
    conn: sqlite3.Connection,
    *,
    search: str = "",
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[PersonRow]]:
    """(total, one page) of live persons who have posted, busiest first; `search` matches
    names, addresses and keys (accent- and case-insensitive).  Personal data: callers show
    this to logged-in roles only."""
    rows = conn.execute(
        f"""
        SELECT p.id, p.key, p.name, COUNT(m.id), MIN(m.date), MAX(m.date)
        FROM persons p
        JOIN identities i ON i.person = p.id
        JOIN messages m ON m.identity = i.id
        WHERE p.merged_into IS NULL AND {not_removed("m")}
        GROUP BY p.id
        """
    ).fetchall()
    addresses: dict[int, list[str]] = {}
    for person, value in conn.execute(
        "SELECT person, value FROM identities WHERE kind = 'address' ORDER BY value"
    ):
        addresses.setdefault(int(person), []).append(str(value))
    needle = fold(search.strip())
    address_needle = normalize_address(search) or needle
    found = [
        PersonRow(
            str(key),
            str(name),
            int(count),
            first,
            last,
            tuple(addresses.get(int(pid), ())),
        )
        for pid, key, name, count, first, last in rows
        if not needle
        or needle in fold(str(name))
        or any(address_needle in a for a in addresses.get(int(pid), ()))
        or needle == str(key)
    ]
    found.sort(key=lambda r: (-r.messages, r.name.casefold(), r.key))
    return len(found), found[offset : offset + limit]
