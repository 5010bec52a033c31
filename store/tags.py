"""Tags on persons ("volunteer: norms research", "attended: kick-off 2023").

A tag is added by hand (`source` "manual") or by a meeting whose participant was matched to the
person (`source` "meeting:<name>"); a tag is stored once per person, with the source that added
it first.  Every change by hand is recorded in `person_events` (actions `tag`, `untag`) with
its actor; merges move tags with the identities (`store.merges`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from store import identities
from store.events import now, record
from store.tx import write

MANUAL = "manual"
MAX_TAG = 200


class TagError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TaggedPerson:
    id: int
    key: str
    name: str
    source: str
    created_at: str


def clean_tag(tag: str) -> str:
    text = " ".join(tag.split())
    if not text:
        raise TagError("a tag cannot be empty")
    if len(text) > MAX_TAG:
        raise TagError(f"a tag has at most {MAX_TAG} characters")
    return text


def live_person(conn: sqlite3.Connection, key: str) -> int:
    person = identities.resolve(conn, key)
    if person is None:
        raise TagError(f"unknown person {key!r}")
    return person


def apply(conn: sqlite3.Connection, person: int, tags: Iterable[str], source: str) -> None:
    """Add tags (no-op for tags the person has); no transaction, no event."""
    conn.executemany(
        "INSERT OR IGNORE INTO person_tags (person, tag, source, created_at) VALUES (?, ?, ?, ?)",
        [(person, t, source, now()) for t in tags if t],
    )


def add(conn: sqlite3.Connection, key: str, tag: str, actor: str) -> bool:
    """Tag a person by hand; False when they already had the tag."""
    tag = clean_tag(tag)
    with write(conn):
        person = live_person(conn, key)
        cursor = conn.execute(
            "INSERT OR IGNORE INTO person_tags (person, tag, source, created_at) "
            "VALUES (?, ?, ?, ?)",
            (person, tag, MANUAL, now()),
        )
        added = cursor.rowcount > 0
        if added:
            record(conn, actor, "tag", {"person": person, "key": key, "tag": tag})
    return added


def remove(conn: sqlite3.Connection, key: str, tag: str, actor: str) -> bool:
    """Remove a tag, whatever added it; False when the person did not have it."""
    tag = clean_tag(tag)
    with write(conn):
        person = live_person(conn, key)
        cursor = conn.execute("DELETE FROM person_tags WHERE person = ? AND tag = ?", (person, tag))
        removed = cursor.rowcount > 0
        if removed:
            record(conn, actor, "untag", {"person": person, "key": key, "tag": tag})
    return removed


def all_tags(conn: sqlite3.Connection) -> dict[str, list[TaggedPerson]]:
    """Every tag with its persons (by name), tags in alphabetical order."""
    found: dict[str, list[TaggedPerson]] = {}
    for tag, pid, key, name, source, created in conn.execute(
        "SELECT t.tag, p.id, p.key, p.name, t.source, t.created_at FROM person_tags t "
        "JOIN persons p ON p.id = t.person ORDER BY t.tag, p.name COLLATE NOCASE, p.key"
    ):
        found.setdefault(str(tag), []).append(
            TaggedPerson(int(pid), str(key), str(name), str(source), str(created))
        )
    return found


def tags_of(conn: sqlite3.Connection, person: int) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT tag FROM person_tags WHERE person = ? ORDER BY tag", (person,)
        )
    ]
