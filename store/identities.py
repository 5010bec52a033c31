"""Who sent each message: identities (a normalised address, or a name when no address is
known) grouped into persons.  Statistics are always computed on persons.

Automatic grouping happens only on strong evidence: one identity per normalised address, so the
same mailbox written `Jane.Doe@Example.org`, `jane.doe at example.org` (pipermail) or recovered
from a DMARC-munged post is one identity and hence one person.  A post whose sender could not be
recovered (From is the list's own address, name "Jane Doe via the-list") has a *name* identity.
Weaker evidence (the same full name on two addresses) only produces suggestions
(`store.merges.suggestions`); a person confirms them with a merge, which is recorded and
reversible.

Person keys are deterministic: derived from the identity that created the person, so two stores
built from the same archives give the same keys (and the same URLs).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from store.names import fold, looks_like_address, name_key, normalize_address, strip_via

logger = logging.getLogger(__name__)

ADDRESS, NAME, UNKNOWN = "address", "name", "unknown"
UNKNOWN_NAME = "(unknown sender)"


@dataclass(frozen=True, slots=True)
class IdentityRef:
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    key: str
    name: str
    identities: tuple[IdentityRef, ...]
    names: tuple[str, ...]
    merged_into: int | None


def person_key(ref: IdentityRef) -> str:
    digest = hashlib.sha256(f"person:v1:{ref.kind}:{ref.value}".encode()).digest()
    return "p" + base64.b32encode(digest).decode("ascii")[:12].lower()


def _via_list(name: str, address: str) -> bool:
    """ "Jane via USRP-users" <usrp-users@...>: the via part names the address's mailbox."""
    stripped = strip_via(name)
    if stripped == name:
        return False
    via = fold(name[len(stripped) :].strip()[3:].strip())
    local = address.split("@", 1)[0]
    return bool(via) and (via == local or via.replace(" ", "-") == local)


def identify(from_addr: str, from_name: str, list_addresses: frozenset[str]) -> IdentityRef:
    """The identity of a sender; list addresses (DMARC munging) never identify a person."""
    address = normalize_address(from_addr)
    munged = bool(address) and (address in list_addresses or _via_list(from_name, address))
    if address and not munged:
        return IdentityRef(ADDRESS, address)
    key = name_key(from_name)
    if key:
        return IdentityRef(NAME, key)
    return IdentityRef(UNKNOWN, "")


def bump_version(conn: sqlite3.Connection) -> None:
    """Analytics caches key on this: it changes whenever persons are regrouped."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('persons_version', '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'persons_version'").fetchone()
    return int(row[0]) if row else 0


def _list_addresses(conn: sqlite3.Connection) -> frozenset[str]:
    rows = conn.execute("SELECT address FROM lists WHERE address != ''").fetchall()
    return frozenset(a for a in (normalize_address(r[0]) for r in rows) if a)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ensure_identity(
    conn: sqlite3.Connection, ref: IdentityRef, cache: dict[IdentityRef, tuple[int, int]]
) -> tuple[int, int]:
    """(identity id, person id) for `ref`, creating both when new."""
    if ref in cache:
        return cache[ref]
    row = conn.execute(
        "SELECT id, person FROM identities WHERE kind = ? AND value = ?", (ref.kind, ref.value)
    ).fetchone()
    if row is None:
        key = person_key(ref)
        found = conn.execute("SELECT id FROM persons WHERE key = ?", (key,)).fetchone()
        if found:  # the anchor person exists (split off earlier): reuse it
            person = int(found[0])
        else:
            cursor = conn.execute(
                "INSERT INTO persons (key, name, created_at) VALUES (?, ?, ?)",
                (key, ref.value or UNKNOWN_NAME, _now()),
            )
            person = int(cursor.lastrowid or 0)
        cursor = conn.execute(
            "INSERT INTO identities (kind, value, person) VALUES (?, ?, ?)",
            (ref.kind, ref.value, person),
        )
        row = (int(cursor.lastrowid or 0), person)
    cache[ref] = (int(row[0]), int(row[1]))
    return cache[ref]


class Assigner:
    """Identities for messages about to be inserted (inside the caller's transaction): the
    identity id to store with each, creating identities and persons as needed; the persons
    it touched are marked for `refresh_stale_names` (once per sync, not per volume)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.addresses = _list_addresses(conn)
        self.cache: dict[IdentityRef, tuple[int, int]] = {}
        self.touched: set[int] = set()

    def identity(self, from_addr: str, from_name: str) -> int:
        ref = identify(from_addr, from_name, self.addresses)
        identity, person = _ensure_identity(self.conn, ref, self.cache)
        self.touched.add(person)
        return identity

    def finish(self) -> None:
        if self.touched:
            self.conn.executemany(
                "UPDATE persons SET name_stale = 1 WHERE id = ?", [(p,) for p in self.touched]
            )
            bump_version(self.conn)


def refresh_stale_names(conn: sqlite3.Connection) -> int:
    """Name the persons new messages touched; returns how many."""
    stale = [int(r[0]) for r in conn.execute("SELECT id FROM persons WHERE name_stale")]
    if stale:
        conn.execute("BEGIN IMMEDIATE")
        try:
            refresh_names(conn, stale)
            conn.execute("UPDATE persons SET name_stale = 0 WHERE name_stale")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(stale)


def assign_missing(conn: sqlite3.Connection, chunk: int = 20_000) -> int:
    """Give every message without one its identity (and person); returns how many.  New
    messages get theirs when stored (`Assigner`); this is for stores from before persons."""
    total = 0
    addresses = _list_addresses(conn)
    cache: dict[IdentityRef, tuple[int, int]] = {}
    touched: set[int] = set()
    while True:
        rows = conn.execute(
            "SELECT id, from_addr, from_name FROM messages WHERE identity IS NULL LIMIT ?",
            (chunk,),
        ).fetchall()
        if not rows:
            break
        conn.execute("BEGIN IMMEDIATE")
        try:
            updates = []
            for message_id, from_addr, from_name in rows:
                identity, person = _ensure_identity(
                    conn, identify(from_addr, from_name, addresses), cache
                )
                touched.add(person)
                updates.append((identity, message_id))
            conn.executemany("UPDATE messages SET identity = ? WHERE id = ?", updates)
            refresh_names(conn, touched)
            bump_version(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        total += len(rows)
        touched.clear()
    if total:
        logger.info("identities: %d messages assigned to persons", total)
    return total


NAME_RULES = 2
"""Bumped when `refresh_names` changes its rules: a store named by older rules is renamed once
(`rename_if_stale`) when a writer opens it."""


def rename_if_stale(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'person_name_rules'").fetchone()
    if row is not None and int(row[0]) >= NAME_RULES:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        refresh_names(conn, [int(r[0]) for r in conn.execute("SELECT id FROM persons")])
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('person_name_rules', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(NAME_RULES),),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def refresh_names(conn: sqlite3.Connection, persons: Iterable[int]) -> None:
    """A person's display name: the name they most often sign with (DMARC suffix removed),
    else the address's mailbox part (`display_names` over every message)."""
    ids = sorted(set(persons))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        names = display_names(conn, part)
        conn.executemany("UPDATE persons SET name = ? WHERE id = ?", [(names[p], p) for p in part])


def display_names(
    conn: sqlite3.Connection, persons: Sequence[int], visible: str = ""
) -> dict[int, str]:
    """The display name of each of `persons` (at most 500): the name they most often sign
    with (DMARC suffix removed), else the mailbox part of their first address, else their name
    identity.  `visible`: an SQL condition on `messages m`; only those messages (and identities
    with such a message) are used, so a reader is never named from posts it may not read."""
    marks = ",".join("?" * len(persons))
    where = f" AND {visible}" if visible else ""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    fallback: dict[int, str] = {}
    for person, from_name, n in conn.execute(
        f"SELECT i.person, m.from_name, COUNT(*) FROM messages m "
        f"JOIN identities i ON i.id = m.identity WHERE i.person IN ({marks}){where} "
        f"GROUP BY i.person, m.from_name",
        tuple(persons),
    ):
        name = strip_via(str(from_name)).strip().strip("\"'")
        if name and not looks_like_address(name):
            counts[int(person)][name] += int(n)
    used = f" AND EXISTS (SELECT 1 FROM messages m WHERE m.identity = i.id{where})" if where else ""
    for person, kind, value in conn.execute(
        f"SELECT i.person, i.kind, i.value FROM identities i WHERE i.person IN ({marks}){used} "
        f"ORDER BY i.kind, i.value",
        tuple(persons),
    ):
        if kind == ADDRESS:
            fallback.setdefault(int(person), str(value).split("@", 1)[0])
        else:
            fallback.setdefault(int(person), str(value) or UNKNOWN_NAME)
    return {p: _best(counts[p]) if counts[p] else fallback.get(p, UNKNOWN_NAME) for p in persons}


def _best(counter: Counter[str]) -> str:
    # most frequent, then the longest (a full name over a first name), then alphabetical
    return sorted(counter.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0]))[0][0]


def resolve(conn: sqlite3.Connection, key: str) -> int | None:
    """The live person id for `key`, following merges; None when unknown."""
    row = conn.execute("SELECT id, merged_into FROM persons WHERE key = ?", (key,)).fetchone()
    seen = 0
    while row is not None and row[1] is not None and seen < 1000:
        row = conn.execute("SELECT id, merged_into FROM persons WHERE id = ?", (row[1],)).fetchone()
        seen += 1
    return int(row[0]) if row else None


def get_person(conn: sqlite3.Connection, person_id: int) -> Person | None:
    row = conn.execute(
        "SELECT id, key, name, merged_into FROM persons WHERE id = ?", (person_id,)
    ).fetchone()
    if row is None:
        return None
    refs = tuple(
        IdentityRef(str(k), str(v))
        for k, v in conn.execute(
            "SELECT kind, value FROM identities WHERE person = ? ORDER BY kind, value",
            (person_id,),
        )
    )
    names = tuple(
        sorted(
            {
                strip_via(str(r[0])).strip()
                for r in conn.execute(
                    "SELECT DISTINCT m.from_name FROM messages m JOIN identities i "
                    "ON i.id = m.identity WHERE i.person = ? AND m.from_name != ''",
                    (person_id,),
                )
            }
        )
    )
    return Person(int(row[0]), str(row[1]), str(row[2]), refs, names, row[3])


def find_by_address(conn: sqlite3.Connection, address: str) -> int | None:
    """The person who writes from `address` (any spelling), if they have posted."""
    value = normalize_address(address)
    row = conn.execute(
        "SELECT person FROM identities WHERE kind = ? AND value = ?", (ADDRESS, value)
    ).fetchone()
    return int(row[0]) if row else None
