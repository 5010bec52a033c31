"""The senders' names read once per name (issue 14, task PN): `store.merges.suggestions` and
`store.name_match.load_index` equal the code they replaced (kept below as the reference, from
7a3c40a) on random stores where many persons sign with the same, differently written names
(case, accents, word order, "via", titles, commas, initials) and the busiest names tie: the
name shown for a suggestion is its first person's (by id, then name) way of writing it."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict

import pytest

from store import merges, name_match
from store.merges import Suggestion
from store.name_match import Known, PersonIndex
from store.names import is_full_name, name_key, name_tokens, strip_via

NAMES = (
    "Ann Smith",
    "Smith Ann",
    "ann SMITH",
    "Ánn Smith",
    "Ann Smith via python-list",
    "A. Smith",
    "Smith, Ann",
    "Dr. Ann Smith",
    "",
    "Bob",
    "bob@example.org",
    "bob at example.org",
    "Bob Jones (Acme)",
    '"Bob Jones"',
    "Jones",
    "Jones, Bob",
    "Bob K. Jones",
    "Zoë Ørsted",
    "Zoe Orsted",
)


def _old_suggestions(conn: sqlite3.Connection, limit: int = 200) -> list[Suggestion]:
    by_key: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    shown: dict[str, str] = {}
    for person, from_name, count in conn.execute(
        "SELECT i.person, m.from_name, COUNT(*) FROM messages m "
        "JOIN identities i ON i.id = m.identity WHERE m.from_name != '' "
        "GROUP BY i.person, m.from_name"
    ):
        name = strip_via(str(from_name)).strip()
        if not is_full_name(name):
            continue
        key = name_key(name)
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
                shown[key], key, tuple(keys[p] for p in ordered), tuple(live[p] for p in ordered)
            )
        )
    found.sort(key=lambda s: (-sum(s.messages), s.name_key))
    return found[:limit]


def _old_surname_of(name: str) -> str | None:
    if "," in name:
        before = name_tokens(name.split(",", 1)[0])
        if before and name_tokens(name.split(",", 1)[1]):
            return before[-1] if len(before[-1]) > 1 else None
    tokens = name_tokens(name)
    return tokens[-1] if len(tokens) > 1 and len(tokens[-1]) > 1 else None


def _old_index(persons: list[Known]) -> PersonIndex:
    by_key: dict[str, dict[int, Known]] = defaultdict(dict)
    surnames: dict[str, dict[int, Known]] = defaultdict(dict)
    words: dict[str, dict[int, Known]] = defaultdict(dict)
    for person in persons:
        for name in person.names:
            tokens = name_tokens(name)
            if not tokens:
                continue
            by_key[name_key(name)][person.id] = person
            last = _old_surname_of(name)
            if last:
                surnames[last][person.id] = person
            for token in tokens:
                if len(token) > 1:
                    words[token][person.id] = person
    index = PersonIndex([])
    index.persons = persons
    index.by_key = {k: list(v.values()) for k, v in by_key.items()}
    index.surnames = {k: list(v.values()) for k, v in surnames.items()}
    index.words = {k: list(v.values()) for k, v in words.items()}
    return index


def _store(rng: random.Random) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE persons (id INTEGER PRIMARY KEY, key, name, merged_into)")
    conn.execute("CREATE TABLE identities (id INTEGER PRIMARY KEY, kind, value, person)")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, identity, from_name)")
    conn.execute("CREATE TABLE person_distinct (a, b)")
    count = rng.randint(2, 12)
    keys = rng.sample(range(100), count)  # keys in another order than ids
    for pid in range(1, count + 1):
        merged = rng.choice([None, None, None, rng.randint(1, count)])
        name = rng.choice(NAMES)
        conn.execute(
            "INSERT INTO persons VALUES (?, ?, ?, ?)", (pid, f"k{keys[pid - 1]:02d}", name, merged)
        )
    for identity in range(1, rng.randint(2, 20)):
        conn.execute(
            "INSERT INTO identities VALUES (?, 'address', ?, ?)",
            (identity, f"a{identity}@example.org", rng.randint(1, count)),
        )
    for _ in range(rng.randint(0, 200)):
        conn.execute(
            "INSERT INTO messages (identity, from_name) VALUES (?, ?)",
            (rng.choice([None, 99, *range(1, 20)]), rng.choice(NAMES)),
        )
    for _ in range(rng.randint(0, 4)):
        a, b = sorted(rng.sample(range(1, count + 1), 2))
        conn.execute("INSERT INTO person_distinct VALUES (?, ?)", (a, b))
    return conn


@pytest.mark.parametrize("seed", range(80))
def test_merge_suggestions_equal_the_previous_code(seed: int) -> None:
    conn = _store(random.Random(seed))
    for limit in (1, 3, 200):
        assert merges.suggestions(conn, limit=limit) == _old_suggestions(conn, limit=limit)


@pytest.mark.parametrize("seed", range(80))
def test_name_index_equals_the_previous_code(seed: int) -> None:
    conn = _store(random.Random(seed))
    index = name_match.load_index(conn)
    old = _old_index(index.persons)
    assert (index.by_key, index.surnames, index.words) == (old.by_key, old.surnames, old.words)
    # the dicts' order is the lists' order of candidates: compared too
    assert [list(d) for d in (index.by_key, index.surnames, index.words)] == [
        list(d) for d in (old.by_key, old.surnames, old.words)
    ]
    for name in NAMES:
        assert name_match.match_name(name, index) == name_match.match_name(name, old)
