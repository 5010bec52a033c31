"""Matching a published name ("Birarda Carina", "A. Wylde") to the persons who post.

Each person is known by the names they sign with (DMARC "via" suffixes removed) and their
display name.  `match_name` grades the evidence:

- `matched`: the name is a full name (two words longer than an initial) and its `name_key`
  (accents, case, word order, titles and parenthesised remarks aside) equals a name of exactly
  one person.  "Birarda Carina" = "Carina Birarda", "Klée Aiken" = "Klee Aiken".
- `suggested` (to confirm by hand), strongest first: the same key for several persons; initials
  ("A. Wylde" ~ "Alice Wylde", "Naveen Lakshman" ~ "Naveen K. Lakshman", either way round); a
  surname held by exactly one person; a one-word name equal to a person's surname ("Kossler" ~
  "Rob Kossler").  The surname must match: a person's surname is the last word of their name,
  or the words before the comma of "Watson, David" (so "David Rüfenacht" is no surname match
  for "Watson, David"); a two-word published name without a comma is tried both ways round
  ("Birarda Carina").  A given name alone never suggests anyone ("Ben Wallis" does not suggest
  a person known only as "Ben", nor does "Ben" suggest "Ben Wallis").
- `none`: nothing.

Candidates who posted on the meeting's community's lists (`preferred`) come first; one-word
suggestions ("one word") from outside the community are dropped when a community is given.
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
        parsed: dict[str, tuple[str, str | None, tuple[str, ...]] | None] = {}
        for person in self.persons:
            for name in person.names:
                if name not in parsed:  # many persons sign with the same name: read it once
                    parsed[name] = _parts(name)
                found = parsed[name]
                if found is None:
                    continue
                key, last, long_words = found
                by_key[key][person.id] = person
                if last:
                    surnames[last][person.id] = person
                for token in long_words:
                    words[token][person.id] = person
        self.by_key = {k: list(v.values()) for k, v in by_key.items()}
        self.surnames = {k: list(v.values()) for k, v in surnames.items()}
        self.words = {k: list(v.values()) for k, v in words.items()}


def _parts(name: str) -> tuple[str, str | None, tuple[str, ...]] | None:
    """What the index keeps of a name: its `name_key`, its `surname_of` and its words longer
    than an initial (None: no usable words)."""
    tokens = name_tokens(name)
    if not tokens:
        return None
    key = " ".join(sorted(tokens))  # name_key(name), without reading the name again
    return key, surname_of(name, tokens), tuple(t for t in tokens if len(t) > 1)


def surname_of(name: str, tokens: list[str] | None = None) -> str | None:
    """The surname word of a name as its owner signs it: the last word before a comma
    ("Watson, David" -> "watson"), else the last word ("David Watson"); None for a one-word
    name or an initial."""
    if "," in name:
        before = name_tokens(name.split(",", 1)[0])
        if before and name_tokens(name.split(",", 1)[1]):
            return before[-1] if len(before[-1]) > 1 else None
    tokens = name_tokens(name) if tokens is None else tokens  # `tokens`: the caller's
    return tokens[-1] if len(tokens) > 1 and len(tokens[-1]) > 1 else None


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


def _ordered(found: dict[int, Candidate], preferred: frozenset[int]) -> tuple[Candidate, ...]:
    rank = {"same name": 0, "initials": 1, "surname": 2, "one word": 3}
    items = sorted(
        found.values(),
        key=lambda c: (
            c.person.id not in preferred,
            rank[c.reason],
            -c.person.messages,
            c.person.key,
        ),
    )
    return tuple(items[:MAX_SUGGESTIONS])


def match_name(name: str, index: PersonIndex, preferred: frozenset[int] | None = None) -> NameMatch:
    """Grade how `name` matches the persons of `index` (see the module docstring);
    `preferred`: the persons who posted on the meeting's community's lists, if it has one."""
    tokens = name_tokens(name)
    if not tokens:
        return NameMatch(NONE)
    exact = index.by_key.get(name_key(name), [])
    if len(exact) == 1 and is_full_name(name):
        return NameMatch(MATCHED, exact[0])
    found: dict[int, Candidate] = {p.id: Candidate(p, "same name") for p in exact}

    def offer(person: Known, reason: str) -> None:
        if reason == "one word" and preferred is not None and person.id not in preferred:
            return  # a single word from another community is noise
        found.setdefault(person.id, Candidate(person, reason))

    # initials need at least one whole word in common: only persons holding one are tried
    sharing = {p.id: p for t in tokens if len(t) > 1 for p in index.words.get(t, [])}
    for person in sharing.values():
        for other in person.names:
            if not (initials_match(name, other) or initials_match(other, name)):
                continue
            if len(tokens) > 1 and len(name_tokens(other)) > 1:
                offer(person, "initials")
                break
            # one side is a single word: only a surname counts ("Kossler" ~ "Rob Kossler")
            if len(tokens) == 1 and surname_of(other) == tokens[0]:
                offer(person, "one word")
                break
    if len(tokens) > 1:
        if "," in name:
            written = {surname_of(name)} - {None}
        else:  # the written surname, and the first word for a name written surname first
            written = {tokens[-1], tokens[0]} if len(tokens) == 2 else {tokens[-1]}
        for surname in written:
            assert surname is not None
            holders = index.surnames.get(surname, [])
            if len(surname) > 1 and len(holders) == 1:
                offer(holders[0], "surname")
    else:
        for person in index.surnames.get(tokens[0], [])[: MAX_SUGGESTIONS * 2]:
            offer(person, "one word")
    if found:
        return NameMatch(SUGGESTED, None, _ordered(found, preferred or frozenset()))
    return NameMatch(NONE)
