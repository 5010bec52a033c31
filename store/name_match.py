"""Matching a published name ("Birarda Carina", "A. Wylde") to the persons who post.

Each person is known by the names they sign with (DMARC "via" suffixes removed) and their
display name.  `match_name` grades the evidence:

- `matched`: the name is a full name (two words longer than an initial) and its `name_key`
  (accents, case, word order, titles and parenthesised remarks aside) equals a name of exactly
  one person.  "Birarda Carina" = "Carina Birarda", "Klée Aiken" = "Klee Aiken".
- `suggested` (to confirm by hand), strongest first: the same key for several persons; initials
  ("A. Wylde" ~ "Alice Wylde", "Naveen Lakshman" ~ "Naveen K. Lakshman", either way round); a
  surname held by exactly one person; a one-word name equal to a word of a person's name (or a
  person known by one word that is a word of the name).
- `none`: nothing.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from store.names import initials_match, is_full_name, name_key, name_tokens, strip_via

MATCHED, SUGGESTED, NONE = "matched", "suggested", "none"
MAX_SUGGESTIONS = 5


@dataclass(frozen=True, slots=True)
class Known:
    id: int
    key: str
    name: str
    names: tuple[str, ...]  # every name they sign with, and the display name
    messages: int


@dataclass(frozen=True, slots=True)
class Candidate:
    person: Known
    reason: str  # "same name", "initials", "surname", "one word"


@dataclass(frozen=True, slots=True)
class NameMatch:
    status: str
    person: Known | None = None
    candidates: tuple[Candidate, ...] = ()


@dataclass(slots=True)
class PersonIndex:
    persons: list[Known]
    by_key: dict[str, list[Known]] = field(default_factory=dict)
    surnames: dict[str, list[Known]] = field(default_factory=dict)
    words: dict[str, list[Known]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_key: dict[str, dict[int, Known]] = defaultdict(dict)
        surnames: dict[str, dict[int, Known]] = defaultdict(dict)
        words: dict[str, dict[int, Known]] = defaultdict(dict)
        for person in self.persons:
            for name in person.names:
                tokens = name_tokens(name)
                if not tokens:
                    continue
                by_key[name_key(name)][person.id] = person
                if len(tokens) > 1 and len(tokens[-1]) > 1:
                    surnames[tokens[-1]][person.id] = person
                for token in tokens:
                    if len(token) > 1:
                        words[token][person.id] = person
        self.by_key = {k: list(v.values()) for k, v in by_key.items()}
        self.surnames = {k: list(v.values()) for k, v in surnames.items()}
        self.words = {k: list(v.values()) for k, v in words.items()}


def load_index(conn: sqlite3.Connection) -> PersonIndex:
    """Every live person who posted, with the names they sign with."""
    names: dict[int, set[str]] = defaultdict(set)
    counts: dict[int, int] = defaultdict(int)
    for person, from_name, count in conn.execute(
        "SELECT i.person, m.from_name, COUNT(*) FROM messages m "
        "JOIN identities i ON i.id = m.identity GROUP BY i.person, m.from_name"
    ):
        counts[int(person)] += int(count)
        name = strip_via(str(from_name)).strip().strip("\"'")
        if name and "@" not in name:
            names[int(person)].add(name)
    persons = []
    for pid, key, display in conn.execute(
        "SELECT id, key, name FROM persons WHERE merged_into IS NULL ORDER BY id"
    ):
        if int(pid) not in counts:
            continue
        variants = names[int(pid)] | ({str(display)} if display else set())
        persons.append(
            Known(int(pid), str(key), str(display), tuple(sorted(variants)), counts[int(pid)])
        )
    return PersonIndex(persons)


def _ordered(found: dict[int, Candidate]) -> tuple[Candidate, ...]:
    rank = {"same name": 0, "initials": 1, "surname": 2, "one word": 3}
    items = sorted(found.values(), key=lambda c: (rank[c.reason], -c.person.messages, c.person.key))
    return tuple(items[:MAX_SUGGESTIONS])


def match_name(name: str, index: PersonIndex) -> NameMatch:
    """Grade how `name` matches the persons of `index` (see the module docstring)."""
    tokens = name_tokens(name)
    if not tokens:
        return NameMatch(NONE)
    exact = index.by_key.get(name_key(name), [])
    if len(exact) == 1 and is_full_name(name):
        return NameMatch(MATCHED, exact[0])
    found: dict[int, Candidate] = {p.id: Candidate(p, "same name") for p in exact}

    def offer(person: Known, reason: str) -> None:
        found.setdefault(person.id, Candidate(person, reason))

    # initials need at least one whole word in common: only persons holding one are tried
    sharing = {p.id: p for t in tokens if len(t) > 1 for p in index.words.get(t, [])}
    for person in sharing.values():
        for other in person.names:
            if initials_match(name, other) or initials_match(other, name):
                single = len(tokens) == 1 or len(name_tokens(other)) == 1
                offer(person, "one word" if single else "initials")
                break
    if len(tokens) > 1:
        # the written surname, and the first word for a name written surname first
        for surname in {tokens[-1], tokens[0]} if len(tokens) == 2 else {tokens[-1]}:
            holders = index.surnames.get(surname, [])
            if len(surname) > 1 and len(holders) == 1:
                offer(holders[0], "surname")
    if len(tokens) == 1:
        for person in index.words.get(tokens[0], [])[: MAX_SUGGESTIONS * 2]:
            offer(person, "one word")
    for token in tokens:
        for person in index.by_key.get(token, []):  # persons known by a single word
            offer(person, "one word")
    if found:
        return NameMatch(SUGGESTED, None, _ordered(found))
    return NameMatch(NONE)
