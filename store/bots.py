"""Persons marked as bots (trac notifications, "Weekly Bug Summary", GitHub mail), whose posts
the statistics leave out by default.

A mark is a reserved tag on the person (`person_tags`): `bot` marks a bot, `not-bot` records
the decision that a suggested bot is a person (the suggestion is not made again).  Being tags,
marks follow persons through merges and their undo exactly as other tags do
(`store.merges`); a merged person holding both is a bot.  Every decision is an event in
`person_events` (actions `bot`, `not-bot`) with its actor and reason, and `merges.undo(event)`
restores the state before it.  Suggestions come from `analytics.bots`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from store import identities
from store.events import now, record
from store.tx import write

BOT = "bot"
NOT_BOT = "not-bot"
ACTIONS = (BOT, NOT_BOT)
SOURCE = "manual"
MAX_REASON = 500


class BotError(Exception):
    pass


class UnknownBotPersonError(BotError):
    """An unknown person key (the web answers 404)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The latest bot decision about a live person (from the event record)."""

    person: int
    key: str
    name: str
    state: str  # BOT or NOT_BOT
    at: str
    actor: str
    reason: str
    event: int | None  # None: tagged by hand (`bot` added with the tag commands)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "state": self.state,
            "at": self.at,
            "actor": self.actor,
            "reason": self.reason,
            "event": self.event,
        }


def bot_ids(conn: sqlite3.Connection) -> frozenset[int]:
    """The persons marked as bots (statistics leave out their posts by default)."""
    return frozenset(
        int(r[0]) for r in conn.execute("SELECT person FROM person_tags WHERE tag = ?", (BOT,))
    )


def decided_ids(conn: sqlite3.Connection) -> frozenset[int]:
    """Persons with a decision either way: never suggested."""
    return frozenset(
        int(r[0])
        for r in conn.execute("SELECT person FROM person_tags WHERE tag IN (?, ?)", (BOT, NOT_BOT))
    )


def state_of(conn: sqlite3.Connection, person: int) -> str | None:
    """BOT, NOT_BOT or None (no decision) for a person id."""
    found = {
        str(r[0])
        for r in conn.execute(
            "SELECT tag FROM person_tags WHERE person = ? AND tag IN (?, ?)", (person, BOT, NOT_BOT)
        )
    }
    return BOT if BOT in found else NOT_BOT if NOT_BOT in found else None


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if len(reason) > MAX_REASON:
        raise BotError(f"a reason has at most {MAX_REASON} characters")
    return reason


def _set(person: int, conn: sqlite3.Connection, state: str) -> str | None:
    """Give `person` the mark `state` (removing the other); returns the state before."""
    before = state_of(conn, person)
    other = NOT_BOT if state == BOT else BOT
    conn.execute("DELETE FROM person_tags WHERE person = ? AND tag = ?", (person, other))
    conn.execute(
        "INSERT OR IGNORE INTO person_tags (person, tag, source, created_at) VALUES (?, ?, ?, ?)",
        (person, state, SOURCE, now()),
    )
    return before


def decide(conn: sqlite3.Connection, key: str, state: str, actor: str, reason: str = "") -> int:
    """Mark the person `key` as a bot (`state` BOT) or as not a bot (NOT_BOT); returns the
    event id, or 0 when the person already had that mark (nothing recorded)."""
    if state not in ACTIONS:
        raise BotError(f"state must be {BOT!r} or {NOT_BOT!r}")
    reason = _reason(reason)
    with write(conn):
        person = identities.resolve(conn, key)
        if person is None:
            raise UnknownBotPersonError(f"unknown person {key!r}")
        if state_of(conn, person) == state:
            return 0
        live_key = str(
            conn.execute("SELECT key FROM persons WHERE id = ?", (person,)).fetchone()[0]
        )
        before = _set(person, conn, state)
        detail = {"person": person, "key": live_key, "reason": reason, "before": before}
        return record(conn, actor, state, detail)


def mark(conn: sqlite3.Connection, key: str, actor: str, reason: str = "") -> int:
    return decide(conn, key, BOT, actor, reason)


def unmark(conn: sqlite3.Connection, key: str, actor: str, reason: str = "") -> int:
    """Not a bot: removes a bot mark and keeps the person from being suggested again."""
    return decide(conn, key, NOT_BOT, actor, reason)


def revert(conn: sqlite3.Connection, action: str, detail: dict[str, Any]) -> None:
    """Undo a `bot` / `not-bot` event inside the caller's transaction (`merges.undo`): the
    person (followed through merges) gets back the state it had before.  Refused when the
    mark the event set is gone (a later decision changed it: undo that one first)."""
    person = identities.resolve(conn, str(detail["key"]))
    if person is None or state_of(conn, person) != action:
        raise BotError(
            f"this {action} decision cannot be undone: {detail['key']} is no longer marked "
            f"{action}; undo the later decision first"
        )
    conn.execute("DELETE FROM person_tags WHERE person = ? AND tag = ?", (person, action))
    before = detail.get("before")
    if before in ACTIONS:
        _set(person, conn, str(before))


def decisions(conn: sqlite3.Connection) -> list[Decision]:
    """Every live person with a mark, with the latest event that set it (its actor, time,
    reason); bots first, then by name."""
    marks: dict[int, str] = {}
    created: dict[int, str] = {}
    for person, tag, at in conn.execute(
        "SELECT person, tag, created_at FROM person_tags WHERE tag IN (?, ?)", (BOT, NOT_BOT)
    ):
        if marks.get(int(person)) != BOT:
            marks[int(person)] = str(tag)
            created[int(person)] = str(at)
    latest: dict[int, tuple[int, str, str, str]] = {}
    for event, at, actor, action, detail in conn.execute(
        "SELECT id, at, actor, action, detail FROM person_events "
        "WHERE action IN (?, ?) AND undone_by IS NULL ORDER BY id",
        (BOT, NOT_BOT),
    ):
        found = json.loads(detail)
        person = identities.resolve(conn, str(found.get("key", "")))
        if person is not None and marks.get(person) == action:
            latest[person] = (int(event), str(at), str(actor), str(found.get("reason", "")))
    names = {
        int(i): (str(k), str(n))
        for i, k, n in conn.execute("SELECT id, key, name FROM persons WHERE merged_into IS NULL")
    }
    found_rows = []
    for person, state in marks.items():
        if person not in names:
            continue
        event, at, actor, reason = latest.get(person, (0, created[person], "", ""))
        key, name = names[person]
        found_rows.append(Decision(person, key, name, state, at, actor, reason, event or None))
    found_rows.sort(key=lambda d: (d.state != BOT, d.name.casefold(), d.key))
    return found_rows
