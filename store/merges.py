"""Merging, splitting and unmerging persons; suggestions on weaker evidence.

Every change is an event in `person_events` (who, when, what moved) and can be undone with
`undo(event)`: a merge moves identities and tags into the surviving person and marks the others
`merged_into` it (their keys keep resolving, so old links still work); undoing it moves exactly
those identities and tags back.  `split` detaches identities into the person their own key names.
`mark_distinct` records that two persons are different people: they are not suggested again.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store import bots, identities
from store.events import record as record_event
from store.identities import IdentityRef, person_key
from store.names import is_full_name, name_key, strip_via
from store.tx import write


class MergeError(Exception):
    pass


class UnknownPersonError(MergeError):
    """An unknown person key or event number (the web answers 404)."""


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]
    undone_by: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "detail": self.detail,
            "undone_by": self.undone_by,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    name: str
    name_key: str
    persons: tuple[str, ...]  # person keys, most active first
    messages: tuple[int, ...]  # message counts of those persons


def _live(conn: sqlite3.Connection, key: str) -> int:
    person = identities.resolve(conn, key)
    if person is None:
        raise UnknownPersonError(f"unknown person {key!r}")
    return person


def _key(conn: sqlite3.Connection, person: int) -> str:
    row = conn.execute("SELECT key FROM persons WHERE id = ?", (person,)).fetchone()
    return str(row[0]) if row else ""


def _identity_rows(conn: sqlite3.Connection, person: int) -> list[list[str]]:
    return [
        [str(k), str(v)]
        for k, v in conn.execute(
            "SELECT kind, value FROM identities WHERE person = ? ORDER BY kind, value", (person,)
        )
    ]


def _move_identities(conn: sqlite3.Connection, refs: Sequence[Sequence[str]], to: int) -> None:
    conn.executemany(
        "UPDATE identities SET person = ? WHERE kind = ? AND value = ?",
        [(to, kind, value) for kind, value in refs],
    )


def _move_tags(conn: sqlite3.Connection, source: int, target: int) -> dict[str, Any]:
    """Move `source`'s tags to `target`.  Returns what an undo needs: every tag row of the
    source, and which of them the target did not have already (only those leave it again)."""
    rows = [
        [str(t), str(s), str(c)]
        for t, s, c in conn.execute(
            "SELECT tag, source, created_at FROM person_tags WHERE person = ? ORDER BY tag",
            (source,),
        )
    ]
    added = [
        tag
        for tag, origin, created in rows
        if conn.execute(
            "INSERT OR IGNORE INTO person_tags (person, tag, source, created_at) "
            "VALUES (?, ?, ?, ?)",
            (target, tag, origin, created),
        ).rowcount
    ]
    conn.execute("DELETE FROM person_tags WHERE person = ?", (source,))
    return {"tag_rows": rows, "tags_added": added}


def _restore_tags(conn: sqlite3.Connection, part: dict[str, Any], holder: int) -> None:
    """Undo `_move_tags`: the merged person gets its tags back; the holder loses only the tags
    the merge gave it."""
    person = int(part["person"])
    conn.executemany(
        "INSERT OR IGNORE INTO person_tags (person, tag, source, created_at) VALUES (?, ?, ?, ?)",
        [(person, tag, origin, created) for tag, origin, created in part.get("tag_rows", [])],
    )
    conn.executemany(
        "DELETE FROM person_tags WHERE person = ? AND tag = ?",
        [(holder, tag) for tag in part.get("tags_added", [])],
    )


def merge(conn: sqlite3.Connection, into: str, others: Sequence[str], actor: str) -> int:
    """Merge the persons `others` into `into`; returns the event id."""
    with write(conn):
        target = _live(conn, into)
        sources = sorted({_live(conn, key) for key in others} - {target})
        if not sources:
            raise MergeError("nothing to merge: the persons given are already one")
        moved = []
        for source in sources:
            refs = _identity_rows(conn, source)
            _move_identities(conn, refs, target)
            tags = _move_tags(conn, source, target)
            conn.execute("UPDATE persons SET merged_into = ? WHERE id = ?", (target, source))
            moved.append({"person": source, "key": _key(conn, source), "identities": refs, **tags})
        identities.refresh_names(conn, [target])
        detail = {"into": target, "into_key": _key(conn, target), "moved": moved}
        return record_event(conn, actor, "merge", detail, regrouped=True)


def split(conn: sqlite3.Connection, key: str, refs: Sequence[IdentityRef], actor: str) -> int:
    """Detach identities from a person: each goes to the person its own key names."""
    with write(conn):
        source = _live(conn, key)
        own = {tuple(r) for r in _identity_rows(conn, source)}
        wanted = [[r.kind, r.value] for r in refs]
        if not wanted or any(tuple(w) not in own for w in wanted):
            raise MergeError("split: every identity must belong to the person")
        if len(wanted) == len(own):
            raise MergeError("split: a person keeps at least one identity")
        moved: list[dict[str, Any]] = []
        targets = [source]
        for kind, value in wanted:
            anchor = person_key(IdentityRef(kind, value))
            row = conn.execute("SELECT id FROM persons WHERE key = ?", (anchor,)).fetchone()
            if row is None:
                cursor = conn.execute(
                    "INSERT INTO persons (key, name, created_at) VALUES (?, ?, ?)",
                    (anchor, value, datetime.now(UTC).isoformat(timespec="seconds")),
                )
                target = int(cursor.lastrowid or 0)
            else:
                target = int(row[0])
                conn.execute("UPDATE persons SET merged_into = NULL WHERE id = ?", (target,))
            if target == source:
                raise MergeError("split: that identity is the one the person is named after")
            _move_identities(conn, [[kind, value]], target)
            moved.append({"person": target, "key": anchor, "identities": [[kind, value]]})
            targets.append(target)
        identities.refresh_names(conn, targets)
        detail = {"from": source, "from_key": _key(conn, source), "moved": moved}
        return record_event(conn, actor, "split", detail, regrouped=True)


def undo(conn: sqlite3.Connection, event_id: int, actor: str) -> int:
    """Reverse a merge, split, "different people" or bot decision; returns the undo event's id."""
    with write(conn):
        event = _event(conn, event_id)
        if event.undone_by is not None:
            raise MergeError(f"event {event_id} was already undone by event {event.undone_by}")
        if event.action == "distinct":  # they may be one person after all: suggest again
            first, second = (int(p) for p in event.detail["persons"])
            conn.execute("DELETE FROM person_distinct WHERE a = ? AND b = ?", (first, second))
            new_id = record_event(conn, actor, "undo", {"event": event_id})
            conn.execute("UPDATE person_events SET undone_by = ? WHERE id = ?", (new_id, event_id))
            return new_id
        if event.action in bots.ACTIONS:  # the person's bot mark as it was before
            try:
                bots.revert(conn, event.action, event.detail)
            except bots.BotError as exc:
                raise MergeError(str(exc)) from exc
            new_id = record_event(conn, actor, "undo", {"event": event_id})
            conn.execute("UPDATE person_events SET undone_by = ? WHERE id = ?", (new_id, event_id))
            return new_id
        if event.action == "merge":
            holder = int(event.detail["into"])
        elif event.action == "split":
            holder = -1
        else:
            raise MergeError(f"event {event_id} ({event.action}) cannot be undone")
        touched: set[int] = set()
        for part in event.detail["moved"]:
            person = int(part["person"])
            current = holder if holder >= 0 else person
            back_to = person if holder >= 0 else int(event.detail["from"])
            for kind, value in part["identities"]:
                row = conn.execute(
                    "SELECT person FROM identities WHERE kind = ? AND value = ?", (kind, value)
                ).fetchone()
                if row is None or int(row[0]) != current:
                    raise MergeError(
                        f"event {event_id} cannot be undone: {kind} {value!r} has moved "
                        "since; undo the later event first"
                    )
            _move_identities(conn, part["identities"], back_to)
            if holder >= 0:
                conn.execute("UPDATE persons SET merged_into = NULL WHERE id = ?", (person,))
                _restore_tags(conn, part, holder)
            else:
                conn.execute("UPDATE persons SET merged_into = ? WHERE id = ?", (back_to, person))
            touched.update({person, back_to, current})
        identities.refresh_names(conn, touched)
        new_id = record_event(conn, actor, "undo", {"event": event_id}, regrouped=True)
        conn.execute("UPDATE person_events SET undone_by = ? WHERE id = ?", (new_id, event_id))
        return new_id


def mark_distinct(conn: sqlite3.Connection, a: str, b: str, actor: str) -> int:
    """Record that two persons are different people (suppresses the suggestion).  Idempotent:
    a pair already recorded (a form sent twice, the chooser of a large suggestion offering
    any pair) records no second event; the id of the standing one is returned."""
    with write(conn):
        first, second = sorted((_live(conn, a), _live(conn, b)))
        if first == second:
            raise MergeError("these keys name the same person")
        added = conn.execute(
            "INSERT OR IGNORE INTO person_distinct (a, b) VALUES (?, ?)", (first, second)
        ).rowcount
        standing = None if added else _distinct_event(conn, first, second)
        if standing is not None:
            return standing
        keys = [_key(conn, first), _key(conn, second)]
        return record_event(conn, actor, "distinct", {"persons": [first, second], "keys": keys})


def _distinct_event(conn: sqlite3.Connection, first: int, second: int) -> int | None:
    """The latest "different people" event of the pair not undone (None: none, a pair recorded
    some other way; a new event is recorded for it then)."""
    row = conn.execute(
        "SELECT id FROM person_events WHERE action = 'distinct' AND undone_by IS NULL "
        "AND json_extract(detail, '$.persons[0]') = ? AND json_extract(detail, '$.persons[1]') = ? "
        "ORDER BY id DESC LIMIT 1",
        (first, second),
    ).fetchone()
    return None if row is None else int(row[0])


def _event(conn: sqlite3.Connection, event_id: int) -> Event:
    row = conn.execute(
        "SELECT id, at, actor, action, detail, undone_by FROM person_events WHERE id = ?",
        (event_id,),
    ).fetchone()
    if row is None:
        raise UnknownPersonError(f"unknown event {event_id}")
    return Event(int(row[0]), row[1], row[2], row[3], json.loads(row[4]), row[5])


def events(conn: sqlite3.Connection, limit: int = 100) -> list[Event]:
    query = "SELECT id FROM person_events ORDER BY id DESC LIMIT ?"
    ids = [r[0] for r in conn.execute(query, (limit,))]
    return [_event(conn, int(i)) for i in ids]


def suggestions(conn: sqlite3.Connection, limit: int = 200) -> list[Suggestion]:
    """Persons who sign with the same full name (accents, case and word order aside) from
    different identities, minus pairs recorded as distinct; the busiest names first."""
    by_key: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    shown: dict[str, str] = {}  # a key's name as the first person (by id) signs it
    parsed: dict[str, tuple[str, str] | None] = {}  # persons share names: each read once
    for person, from_name, count in conn.execute(
        "SELECT i.person, m.from_name, COUNT(*) FROM messages m "
        "JOIN identities i ON i.id = m.identity WHERE m.from_name != '' "
        "GROUP BY i.person, m.from_name ORDER BY i.person, m.from_name"
    ):
        if from_name not in parsed:
            name = strip_via(str(from_name)).strip()
            parsed[from_name] = (name_key(name), name) if is_full_name(name) else None
        read = parsed[from_name]
        if read is None:
            continue
        key, name = read
        by_key[key][int(person)] += int(count)
        shown.setdefault(key, name)
    distinct = {(int(a), int(b)) for a, b in conn.execute("SELECT a, b FROM person_distinct")}
    keys = dict(conn.execute("SELECT id, key FROM persons WHERE merged_into IS NULL"))
    found: list[Suggestion] = []
    for key, persons in by_key.items():
        live = {p: n for p, n in persons.items() if p in keys}
        ordered = sorted(live, key=lambda p: (-live[p], keys[p]))
        if len(ordered) < 2:
            continue
        pairs = [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]
        if all((min(a, b), max(a, b)) in distinct for a, b in pairs):
            continue
        found.append(
            Suggestion(
                shown[key],
                key,
                tuple(keys[p] for p in ordered),
                tuple(live[p] for p in ordered),
            )
        )
    found.sort(key=lambda s: (-sum(s.messages), s.name_key))
    return found[:limit]
