"""Participant lists: the two published forms (the seed meeting summaries themselves), name
matching, and meetings stored with their matches, decisions and tags."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store import meetings, tags
from store.name_match import Known, PersonIndex, match_name
from store.participants import parse_participants
from tests.support.usrp_migration import usrp_data_dir

SEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"

ANNEX_2018 = [
    "Markus Kummer (Facilitator)",
    "Aireni Omerri",
    "Ben Walli (Facilitator)",
    "Measha Patel",
    "Maarten van Horenbeeck (Lead Expert)",
    "David Rüfenacht",
    "Eleonora Mazzucchi (IGF Secretariat)",
    "Syed Muhammad Sajjad",
    "Dr. Sudha Bhuvaneshwari",
    "Juan Salazar",
    "Victoria Bernal",
    "Matthew Shears",
    "Carina Birarda",
    "Deyanrir Solorio",
    "Deborah Brown",
    "Kiyoshi Tsuru",
    "YingChu Chen",
    "Mary Uduma",
    "Wim Degezelle",
    "Felix Uribe",
    "Paul Donohoe",
    "Ben Wallis",
    "Paul Patrice Gomse",
    "Michael Hausding",
    "John Hering",
    "Cristine Hoepers",
    "Maarten van Horenbeeck",
    "Maheeshwara Kirindigoda",
    "Mallory Knodel",
    "Lucie Krahulcova",
    "Joanna Kulesza",
    "Naveen K. Lakshman",
    "Batsirai Madondo",
    "Wout de Natris",
    "Segun Olugbile",
]
SENTENCE_2023 = [
    "A. Wylde",
    "Ababacar Diop",
    "Adli Wahid",
    "Alessia Sposini",
    "Bart Hogeveen",
    "Birarda Carina",
    "Cherie Lagakali",
    "Chris Gibson",
    "Ellie McDonald",
    "Eugene EG Tan",
    "Iombonana Andriamampionona",
    "Judith Hellerstein",
    "Klée Aiken",
    "Koichiro Sparky Komiyama",
    "Korry Luke",
    "Marilee D’Arceuil",
    "Mark Carvell",
    "Markus Kummer",
    "Naveen Lakshman",
    "Nicola Fabiano",
    "Sheetal Kumar",
    "Shinji sato",
    "Thorsten Jelinek",
    "Wim Degezelle",
    "Wout de Natris",
]


def _seed(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def test_the_annex_of_the_2018_summary() -> None:
    # one name per line after "Annex I – Participants List"; the paragraphs that mention
    # "participants" before it are sentences, not headings
    assert parse_participants(_seed("000")) == ANNEX_2018


def test_the_sentence_of_the_2023_summary() -> None:
    # "List of participants: *A. Wylde, ..., Wout de Natris.*" (the footnote listing the
    # co-facilitators with "Mr"/"Ms" is not the participant list)
    assert parse_participants(_seed("003")) == SENTENCE_2023


def test_plain_lists_and_bullets() -> None:
    assert parse_participants("- Jane Doe\n* John Roe,\n\n3. Ann Lee.\n") == [
        "Jane Doe",
        "John Roe",
        "Ann Lee",
    ]
    assert parse_participants("Attendees: Jane Doe; John Roe and Ann Lee") == [
        "Jane Doe",
        "John Roe",
        "Ann Lee",
    ]
    text = "Participants:\nJane Doe\nJohn K.\n\nAnnex II – Slides\nNot A Name\n"
    assert parse_participants(text) == ["Jane Doe", "John K."]


def test_role_labels_and_semicolons() -> None:
    text = (
        "Participants:\n"
        "Chair: Wout de Natris\n"
        "Co-facilitator: Markus Kummer\n"
        "IGF Secretariat: Eleonora Mazzucchi\n"
        "Jane Doe; John Roe\n"
        "Kulesza, Joanna\n"  # a comma on a line is a surname first, not two names
        "Ben Wallis (Facilitator; Chair); Ann Lee\n"
    )
    assert parse_participants(text) == [
        "Wout de Natris (Chair)",
        "Markus Kummer (Co-facilitator)",
        "Eleonora Mazzucchi (IGF Secretariat)",
        "Jane Doe",
        "John Roe",
        "Kulesza, Joanna",
        "Ben Wallis (Facilitator; Chair)",
        "Ann Lee",
    ]
    # without a heading too; not a label: three words, or what follows is no name
    assert parse_participants("Chair: Wout de Natris; Ann Lee\nDate: 2023-05-02\n") == [
        "Wout de Natris (Chair)",
        "Ann Lee",
        "Date: 2023-05-02",
    ]
    assert parse_participants("Head of the BPF: Jane Doe\nnote: see below\n") == [
        "Head of the BPF: Jane Doe",
        "note: see below",
    ]
    assert parse_participants("List of participants: Chair: Wout de Natris, Ann Lee.") == [
        "Wout de Natris (Chair)",
        "Ann Lee",
    ]
    # the role no longer hides the name from an automatic match
    index = _index()
    assert match_name("Wout de Natris (Chair)", index).status == "matched"
    assert match_name("Chair: Wout de Natris", index).status != "matched"


def _index() -> PersonIndex:
    people = [
        ("Carina Birarda", ("Carina Birarda",)),
        ("Klee Aiken", ("Klee Aiken",)),
        ("Naveen K. Lakshman", ("Naveen K. Lakshman",)),
        ("Alice Wylde", ("Alice Wylde", "alice")),
        ("Wout de Natris", ("Wout de Natris",)),
        ("Markus Kummer", ("Markus Kummer",)),
        ("Markus Kummer", ("Kummer, Markus",)),  # a second person signing with the same name
        ("shinji", ("shinji",)),
        ("Wim Degezelle", ("Wim Degezelle",)),
    ]
    return PersonIndex(
        [Known(i + 1, f"p{i + 1}", n, names, 10 - i) for i, (n, names) in enumerate(people)]
    )


def test_matching_grades() -> None:
    index = _index()

    def grade(name: str) -> tuple[str, list[tuple[str, str]]]:
        m = match_name(name, index)
        found = [(m.person.name, "auto")] if m.person else []
        return m.status, found + [(c.person.name, c.reason) for c in m.candidates]

    # accent-, case- and order-insensitive: matched
    assert grade("Birarda Carina") == ("matched", [("Carina Birarda", "auto")])
    assert grade("Klée Aiken") == ("matched", [("Klee Aiken", "auto")])
    assert grade("WOUT DE NATRIS") == ("matched", [("Wout de Natris", "auto")])
    assert grade("Wim Degezelle (IGF Secretariat)") == ("matched", [("Wim Degezelle", "auto")])
    # weaker evidence: suggested
    assert grade("Naveen Lakshman") == ("suggested", [("Naveen K. Lakshman", "initials")])
    assert grade("A. Wylde") == ("suggested", [("Alice Wylde", "initials")])
    assert grade("Markus Kummer")[0] == "suggested"  # two persons sign so
    assert [r for _, r in grade("Markus Kummer")[1]] == ["same name", "same name"]
    # a one-word person name is no surname: "Shinji sato" does not suggest "shinji" (issue 13)
    assert grade("Shinji sato") == ("none", [])
    assert grade("Degezelle") == ("suggested", [("Wim Degezelle", "one word")])
    assert grade("Joanna Birarda") == ("suggested", [("Carina Birarda", "surname")])
    assert grade("Mary Uduma") == ("none", [])
    assert grade("(IGF)") == ("none", [])


def test_suggestions_need_the_surname_and_prefer_the_community() -> None:
    # issue 13: "David Rüfenacht" (../shared/seeds/, a 2018 meeting) was a "surname" match for
    # "Watson, David", and one-word names ("Ben", "paul") from unrelated lists were suggested
    people = [
        ("Watson, David", ("Watson, David",)),
        ("Ben", ("Ben",)),
        ("paul", ("paul",)),
        ("Ben Wallis", ("Ben Wallis",)),
        ("Rob Kossler", ("Rob Kossler",)),
        ("Anna Kossler", ("Kossler, Anna",)),
    ]
    index = PersonIndex(
        [Known(i + 1, f"p{i + 1}", n, names, 10) for i, (n, names) in enumerate(people)]
    )
    assert match_name("David Rüfenacht", index).status == "none"
    assert match_name("Rüfenacht, David", index).status == "none"
    assert [c.person.name for c in match_name("Watson Dave", index).candidates] == [
        "Watson, David"
    ]  # surname first, no comma: tried both ways round
    assert match_name("Ben Walli", index).status == "none"  # not "Ben"
    assert match_name("Paul Smith", index).status == "none"  # not "paul"
    assert [c.person.name for c in match_name("Wallis", index).candidates] == ["Ben Wallis"]
    assert all(c.person.name != "Ben Wallis" for c in match_name("Ben", index).candidates)
    # the meeting's community first; one-word suggestions only from it
    both = match_name("Kossler", index)
    assert [c.person.name for c in both.candidates] == ["Rob Kossler", "Anna Kossler"]
    ranked = match_name("Kossler", index, preferred=frozenset({6}))
    assert [c.person.name for c in ranked.candidates] == ["Anna Kossler"]
    # stronger evidence from outside the community stays, after the community's
    ranked = match_name("A. Kossler", index, preferred=frozenset({6}))
    assert [c.person.name for c in ranked.candidates] == ["Anna Kossler"]


USRP_CALL = """Participants
Leech Marcus D
Marcus Muller
Kossler
Jonathan Pendlum
Maria Munoz
M. Müller
Mary Uduma
"""


@pytest.fixture()
def conn(
    corpus: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> sqlite3.Connection:
    data = usrp_data_dir(corpus, tmp_path_factory, tmp_path / "data")
    return sqlite3.connect(data / "store.db", isolation_level=None)


def _state(conn: sqlite3.Connection, name: str = "call") -> dict[str, tuple[str, str]]:
    meeting = meetings.get_meeting(conn, name)
    return {p.name: (p.match, p.person_name) for p in meetings.participants(conn, meeting)}


def _tags(conn: sqlite3.Connection, person: str) -> list[str]:
    row = conn.execute("SELECT id FROM persons WHERE name = ?", (person,)).fetchone()
    return tags.tags_of(conn, int(row[0]))


def test_meeting_import_confirm_unmatch_and_tags(conn: sqlite3.Connection) -> None:
    summary = meetings.import_meeting(
        conn, "call", parse_participants(USRP_CALL), date="2021-04-01", tag="volunteer: docs"
    )
    assert summary.counts == {"matched": 3, "suggested": 3, "none": 1}
    assert _state(conn) == {
        "Leech Marcus D": ("matched", "Marcus D Leech"),  # order aside
        "Marcus Muller": ("matched", "Marcus Müller"),  # accents aside
        "Kossler": ("suggested", ""),  # one word: Rob Kossler
        "Jonathan Pendlum": ("suggested", ""),  # surname: Jonathon Pendlum
        "Maria Munoz": ("matched", "Maria Muñoz"),
        "M. Müller": ("suggested", ""),  # initials
        "Mary Uduma": ("none", ""),
    }
    assert _tags(conn, "Marcus D Leech") == ["attended: call", "volunteer: docs"]
    keys = {str(n): str(k) for k, n in conn.execute("SELECT key, name FROM persons")}

    p = meetings.confirm(conn, "call", "Kossler", keys["Rob Kossler"], "test")
    assert (p.match, p.person_name) == ("confirmed", "Rob Kossler")
    assert _tags(conn, "Rob Kossler") == ["attended: call", "volunteer: docs"]
    p = meetings.unmatch(conn, "call", "leech marcus d", "test")  # an equivalent name
    assert (p.match, p.person) == ("unmatched", None)
    assert _tags(conn, "Marcus D Leech") == []
    # by position; re-matching someone else moves the tags
    meetings.confirm(conn, "call", "#2", keys["Rob Kossler"], "test")
    assert _tags(conn, "Marcus Müller") == []

    # re-import keeps the decisions, matches the rest again
    meetings.import_meeting(conn, "call", parse_participants(USRP_CALL))
    state = _state(conn)
    assert state["Kossler"] == ("confirmed", "Rob Kossler")
    assert state["Leech Marcus D"] == ("unmatched", "")
    assert state["Maria Munoz"] == ("matched", "Maria Muñoz")
    assert meetings.get_meeting(conn, "call").tag == "volunteer: docs"  # kept
    assert _tags(conn, "Rob Kossler") == ["attended: call", "volunteer: docs"]

    # another meeting with the same tag keeps it when this one's match goes
    meetings.import_meeting(conn, "later", ["Rob Kossler"], tag="volunteer: docs")
    meetings.unmatch(conn, "call", "Kossler", "test")
    meetings.unmatch(conn, "call", "#2", "test")
    assert _tags(conn, "Rob Kossler") == ["attended: later", "volunteer: docs"]
    actions = [r[0] for r in conn.execute("SELECT action FROM person_events ORDER BY id")]
    assert (
        actions == ["meeting-match", "meeting-unmatch", "meeting-match"] + ["meeting-unmatch"] * 2
    )


def test_tags_by_hand_and_merges(conn: sqlite3.Connection) -> None:
    keys = {str(n): str(k) for k, n in conn.execute("SELECT key, name FROM persons")}
    assert tags.add(conn, keys["Wade Fife"], "  volunteer:   norms research ", "test")
    assert not tags.add(conn, keys["Wade Fife"], "volunteer: norms research", "test")
    assert list(tags.all_tags(conn)) == ["volunteer: norms research"]
    assert tags.remove(conn, keys["Wade Fife"], "volunteer: norms research", "test")
    assert not tags.remove(conn, keys["Wade Fife"], "volunteer: norms research", "test")
    with pytest.raises(tags.TagError, match="empty"):
        tags.add(conn, keys["Wade Fife"], "  ", "test")
    with pytest.raises(tags.TagError, match="unknown person"):
        tags.add(conn, "pnobody", "x", "test")


def test_meeting_errors(conn: sqlite3.Connection) -> None:
    with pytest.raises(meetings.MeetingError, match="no participant"):
        meetings.import_meeting(conn, "empty", [])
    with pytest.raises(meetings.MeetingError, match="must not contain `/`"):
        meetings.import_meeting(conn, "a/b", ["Jane Doe"])
    with pytest.raises(meetings.MeetingError, match="needs a name"):
        meetings.import_meeting(conn, "  ", ["Jane Doe"])
    meetings.import_meeting(conn, "m", ["Jane Doe"])
    with pytest.raises(meetings.UnknownMeetingError):
        meetings.confirm(conn, "nope", "Jane Doe", "pxxx", "test")
    with pytest.raises(meetings.MeetingError, match="no participant 'John'"):
        meetings.unmatch(conn, "m", "John", "test")
    with pytest.raises(tags.TagError, match="unknown person"):
        meetings.confirm(conn, "m", "Jane Doe", "pnobody", "test")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("x.json", "must not end in .json, .csv, .mbox"),
        ("x.CSV", "must not end in"),
        ("call.mbox", "must not end in"),
        ("..", "cannot be '..'"),
        (" . ", "cannot be '.'"),
        ("2023/05", "must not contain `/`"),
        ("call\x00", "control characters"),
        ("call\nnext", "control characters"),
    ],
)
def test_meeting_names_that_break_its_url(conn: sqlite3.Connection, name: str, reason: str) -> None:
    # its page is /meetings/<name>: "x.json" would be the JSON of meeting "x"
    with pytest.raises(meetings.MeetingError, match=reason):
        meetings.import_meeting(conn, name, ["Jane Doe"])
    assert meetings.all_meetings(conn) == []


def test_meeting_names_that_are_fine(conn: sqlite3.Connection) -> None:
    for name in ("  kick-off   2023 ", "v2.0 review", "json", "...", "x.json review"):
        meetings.import_meeting(conn, name, ["Jane Doe"])
    assert sorted(m.name for m, _ in meetings.all_meetings(conn)) == [
        "...",
        "json",
        "kick-off 2023",
        "v2.0 review",
        "x.json review",
    ]
