"""Meetings and their participants, matched to persons (`store.name_match`).

`import_meeting` stores a meeting's participant list (parsed by `store.participants`; entries
with the same name key are one participant) and matches each name: `matched` (automatic, an
unambiguous full name), `suggested` or `none`.  A person confirms a suggestion or picks a
person by hand (`confirm`: `confirmed`), or removes a match (`unmatch`: `unmatched`, which is
never matched automatically again).  Re-importing a meeting replaces its list but keeps those
decisions for the names that are still on it.

A matched or confirmed participant's person carries the tags `attended: <meeting>` and the
meeting's own tag (e.g. "volunteer: norms research"), with source `meeting:<name>`; they go
when the match goes (unless another meeting, or a person by hand, gave the same tag).
Confirmations and removals are recorded in `person_events` with their actor.
"""

from __future__ import annotations

import logging
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from store import tags
from store.events import now
from store.events import record as record_event
from store.name_match import MATCHED, load_index, match_name
from store.names import name_key
from store.tx import write

logger = logging.getLogger(__name__)

CONFIRMED, UNMATCHED = "confirmed", "unmatched"
DECIDED = (CONFIRMED, UNMATCHED)


class MeetingError(Exception):
    pass


class UnknownMeetingError(MeetingError):
    pass


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    name: str
    date: str
    community: str
    tag: str
    source: str
    imported_at: str


@dataclass(frozen=True, slots=True)
class Participant:
    position: int
    name: str
    name_key: str
    match: str  # matched, confirmed, suggested, none, unmatched
    person: int | None  # live person id (merges followed)
    person_key: str
    person_name: str


@dataclass(frozen=True, slots=True)
class ImportSummary:
    meeting: Meeting
    participants: int
    counts: dict[str, int]


_RESERVED_SUFFIXES = (".json", ".csv", ".mbox")


def check_name(name: str) -> str:
    """`name` with its spaces collapsed, or MeetingError when it cannot be a meeting's name:
    its page is `/meetings/<name>` (and `<name>.json`, `<name>.csv`), so a name must not end in
    `.json`, `.csv` or `.mbox` (the page of "x.json" would be the JSON of meeting "x"), hold `/`
    or a control character, or be `.` or `..`."""
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise MeetingError("a meeting's name must not contain control characters")
    name = " ".join(name.split())
    if not name:
        raise MeetingError("a meeting needs a name")
    if "/" in name:
        raise MeetingError(f"a meeting's name must not contain `/`: {name!r}")
    if name in (".", ".."):
        raise MeetingError(f"a meeting's name cannot be {name!r}")
    if name.lower().endswith(_RESERVED_SUFFIXES):
        raise MeetingError(
            f"a meeting's name must not end in {', '.join(_RESERVED_SUFFIXES)} (its page "
            f"would be another meeting's export): {name!r}"
        )
    return name


def attended_tag(meeting: str) -> str:
    return f"attended: {meeting}"


def _source(meeting: str) -> str:
    return f"meeting:{meeting}"


def _row(row: Sequence[object]) -> Meeting:
    return Meeting(int(str(row[0])), *(str(v) for v in row[1:7]))


_MEETING = "SELECT id, name, date, community, tag, source, imported_at FROM meetings"


def get_meeting(conn: sqlite3.Connection, name: str) -> Meeting:
    row = conn.execute(_MEETING + " WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise UnknownMeetingError(f"unknown meeting {name!r}")
    return _row(row)


def all_meetings(conn: sqlite3.Connection) -> list[tuple[Meeting, dict[str, int]]]:
    """Meetings (newest date first) with their participant counts by match status."""
    counts: dict[int, dict[str, int]] = {}
    for meeting, match, n in conn.execute(
        "SELECT meeting, match, COUNT(*) FROM meeting_participants GROUP BY meeting, match"
    ):
        counts.setdefault(int(meeting), {})[str(match)] = int(n)
    rows = conn.execute(_MEETING + " ORDER BY date DESC, name").fetchall()
    return [(_row(r), counts.get(int(r[0]), {})) for r in rows]


def _live(conn: sqlite3.Connection, person: int | None) -> int | None:
    seen = 0
    while person is not None and seen < 1000:
        row = conn.execute("SELECT merged_into FROM persons WHERE id = ?", (person,)).fetchone()
        if row is None or row[0] is None:
            return person if row is not None else None
        person, seen = int(row[0]), seen + 1
    return person


def participants(conn: sqlite3.Connection, meeting: Meeting) -> list[Participant]:
    rows = conn.execute(
        "SELECT position, name, name_key, match, person FROM meeting_participants "
        "WHERE meeting = ? ORDER BY position",
        (meeting.id,),
    ).fetchall()
    result = []
    for position, name, key, match, person in rows:
        live = _live(conn, person)
        found = (
            conn.execute("SELECT key, name FROM persons WHERE id = ?", (live,)).fetchone()
            if live is not None
            else None
        )
        result.append(
            Participant(
                int(position),
                str(name),
                str(key),
                str(match),
                live,
                str(found[0]) if found else "",
                str(found[1]) if found else "",
            )
        )
    return result


def _tag_person(conn: sqlite3.Connection, meeting: Meeting, person: int) -> None:
    tags.apply(conn, person, [attended_tag(meeting.name), meeting.tag], _source(meeting.name))


def _untag_person(conn: sqlite3.Connection, meeting: Meeting, person: int) -> None:
    """Remove the tags this meeting gave, then restore those other meetings still imply."""
    conn.execute(
        "DELETE FROM person_tags WHERE person = ? AND source = ?", (person, _source(meeting.name))
    )
    for other in all_meetings(conn):
        held = conn.execute(
            "SELECT person FROM meeting_participants WHERE meeting = ? AND match IN (?, ?)",
            (other[0].id, MATCHED, CONFIRMED),
        ).fetchall()
        if any(_live(conn, int(h[0])) == person for h in held if h[0] is not None):
            _tag_person(conn, other[0], person)


def import_meeting(
    conn: sqlite3.Connection,
    name: str,
    names: Sequence[str],
    *,
    date: str = "",
    community: str = "",
    tag: str = "",
    source: str = "",
) -> ImportSummary:
    """Create or replace meeting `name` with the participant `names` and match them."""
    name = check_name(name)
    tag = tags.clean_tag(tag) if tag.strip() else ""
    unique: dict[str, str] = {}
    for entry in names:
        key = name_key(entry)
        if key and key not in unique:
            unique[key] = entry
    if not unique:
        raise MeetingError("no participant names found")
    index = load_index(conn)
    with write(conn):
        found = conn.execute(_MEETING + " WHERE name = ?", (name,)).fetchone()
        decided: dict[str, tuple[str, int | None]] = {}
        if found:
            old = _row(found)
            date, community = date or old.date, community or old.community
            tag, source = tag or old.tag, source or old.source
            for key, match, person in conn.execute(
                "SELECT name_key, match, person FROM meeting_participants WHERE meeting = ?",
                (old.id,),
            ):
                if match in DECIDED:
                    decided[str(key)] = (str(match), person)
            conn.execute("DELETE FROM meeting_participants WHERE meeting = ?", (old.id,))
            conn.execute("DELETE FROM person_tags WHERE source = ?", (_source(name),))
            conn.execute(
                "UPDATE meetings SET date = ?, community = ?, tag = ?, source = ?, "
                "imported_at = ? WHERE id = ?",
                (date, community, tag, source, now(), old.id),
            )
            meeting_id = old.id
        else:
            cursor = conn.execute(
                "INSERT INTO meetings (name, date, community, tag, source, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, date, community, tag, source, now()),
            )
            meeting_id = int(cursor.lastrowid or 0)
        meeting = Meeting(meeting_id, name, date, community, tag, source, now())
        counts: dict[str, int] = {}
        for position, (key, entry) in enumerate(unique.items(), start=1):
            if key in decided:
                match, person = decided[key]
                person = _live(conn, person)
            else:
                graded = match_name(entry, index)
                match, person = graded.status, graded.person.id if graded.person else None
            conn.execute(
                "INSERT INTO meeting_participants (meeting, position, name, name_key, person, "
                "match) VALUES (?, ?, ?, ?, ?, ?)",
                (meeting_id, position, entry, key, person, match),
            )
            if person is not None and match in (MATCHED, CONFIRMED):
                _tag_person(conn, meeting, person)
            counts[match] = counts.get(match, 0) + 1
    logger.info("meeting %s: %d participants %s", name, len(unique), counts)
    return ImportSummary(get_meeting(conn, name), len(unique), counts)


def find_participant(conn: sqlite3.Connection, meeting: Meeting, which: str) -> Participant:
    """A participant by their name as listed, by an equivalent name, or by `#position`."""
    everyone = participants(conn, meeting)
    text = " ".join(which.split())
    if text.startswith("#") and text[1:].isdigit():
        hits = [p for p in everyone if p.position == int(text[1:])]
    else:
        hits = [p for p in everyone if p.name == text] or [
            p for p in everyone if p.name_key == name_key(text)
        ]
    if len(hits) != 1:
        raise MeetingError(f"no participant {which!r} in meeting {meeting.name!r}")
    return hits[0]


def confirm(
    conn: sqlite3.Connection, meeting_name: str, which: str, person_key: str, actor: str
) -> Participant:
    """Match a participant to a person by hand (confirming a suggestion or choosing)."""
    with write(conn):
        meeting = get_meeting(conn, meeting_name)
        participant = find_participant(conn, meeting, which)
        person = tags.live_person(conn, person_key)
        if participant.person is not None and participant.person != person:
            _set(conn, meeting, participant, None, UNMATCHED)
            _untag_person(conn, meeting, participant.person)
        _set(conn, meeting, participant, person, CONFIRMED)
        _tag_person(conn, meeting, person)
        record_event(
            conn,
            actor,
            "meeting-match",
            {
                "meeting": meeting.name,
                "participant": participant.name,
                "person": person,
                "key": person_key,
            },
        )
    return find_participant(conn, meeting, f"#{participant.position}")


def unmatch(conn: sqlite3.Connection, meeting_name: str, which: str, actor: str) -> Participant:
    """Remove a participant's match (and the tags it gave); never matched automatically again."""
    with write(conn):
        meeting = get_meeting(conn, meeting_name)
        participant = find_participant(conn, meeting, which)
        _set(conn, meeting, participant, None, UNMATCHED)
        if participant.person is not None:
            _untag_person(conn, meeting, participant.person)
        record_event(
            conn,
            actor,
            "meeting-unmatch",
            {
                "meeting": meeting.name,
                "participant": participant.name,
                "person": participant.person,
                "key": participant.person_key,
            },
        )
    return find_participant(conn, meeting, f"#{participant.position}")


def _set(
    conn: sqlite3.Connection, meeting: Meeting, p: Participant, person: int | None, match: str
) -> None:
    conn.execute(
        "UPDATE meeting_participants SET person = ?, match = ? WHERE meeting = ? AND position = ?",
        (person, match, meeting.id, p.position),
    )
