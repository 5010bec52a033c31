"""Senders as persons in search: ``person:`` filters and the sender facet.

The index holds each message's sender *identity* (stable); persons group identities and merges
or splits regroup them, so a search maps identities to persons when it runs: a ``person:`` key
becomes its identity ids (`resolve_query`), and per-identity facet counts are summed per person
(`sender_facet`).  `StorePersons` answers both from the store's ``identities`` and ``persons``
tables; tests may pass any other `PersonResolver`.

`StorePersons` answers for one reader (a `store.visibility.Visibility`): a person none of whose
posts the reader may read is unknown to it, exactly like a key that does not exist (same
`SearchQueryError`), so ``person:KEY`` never confirms that an address posted privately; and
persons are named from the posts the reader may read only (`store.persons.VisibleNames`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterable, Mapping

from search.base import FACET_SIZE, PersonRef, PersonResolver, SearchQueryError
from search.query import Query, resolve_persons
from store.visibility import EVERYTHING, Visibility

logger = logging.getLogger(__name__)

_CHUNK = 900


class StorePersons:
    """`PersonResolver` over a store connection (read-only use), for the reader `viewer`
    (default: one who sees everything, as the operator's CLI)."""

    def __init__(self, conn: sqlite3.Connection, viewer: Visibility = EVERYTHING) -> None:
        self.conn = conn
        self.viewer = viewer
        # constructed for person: filters and sender names only, never for a plain search
        from store.persons import VisibleNames

        self._names = VisibleNames(conn, viewer)

    def identities_of(self, key: str) -> frozenset[int] | None:
        # the identity rules only for a person: filter, never for a plain search (issue 14)
        from store import identities as store_identities

        person = store_identities.resolve(self.conn, key)
        if person is None:
            return None
        if self.viewer.hides_messages and not self._known(key, person):
            return None  # no post this reader may read: the same as no such person
        rows = self.conn.execute("SELECT id FROM identities WHERE person = ?", (person,))
        return frozenset(int(row[0]) for row in rows)

    def _known(self, key: str, person: int) -> bool:
        """`key` names someone this reader may know: a person with a post it may read, by the
        key it is shown (`_shown_keys`) or the key of an address of theirs with such a post;
        so neither a key merged into a public poster nor the live key of a public poster merged
        into it answers for an address known only from private posts."""
        from store.persons import has_visible_post

        if not has_visible_post(self.conn, person, self.viewer):
            return False
        if self._own_post(key, person):
            return True
        live = self.conn.execute("SELECT key FROM persons WHERE id = ?", (person,)).fetchone()
        return live is not None and self._shown_keys({person: str(live[0])})[person] == key

    def _own_post(self, key: str, person: int) -> bool:
        """An identity of `person` whose own key is `key` sent a post this reader may read."""
        from store import identities as store_identities

        rows = self.conn.execute(
            "SELECT id, kind, value FROM identities WHERE person = ?", (person,)
        ).fetchall()
        own = [
            int(i)
            for i, kind, value in rows
            if store_identities.person_key(store_identities.IdentityRef(str(kind), str(value)))
            == key
        ]
        if not own:
            return False
        marks = ",".join("?" * len(own))
        found = self.conn.execute(
            f"SELECT 1 FROM messages m WHERE m.identity IN ({marks}) "
            f"AND {self.viewer.messages('m')} LIMIT 1",
            own,
        ).fetchone()
        return found is not None

    def persons_of(self, identities: Collection[int]) -> dict[int, PersonRef]:
        wanted = sorted(set(identities))
        rows: list[tuple[int, int, str]] = []
        stored: dict[int, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for identity, person, key, name in self.conn.execute(
                f"SELECT i.id, p.id, p.key, p.name FROM identities i "
                f"JOIN persons p ON p.id = i.person WHERE i.id IN ({marks})",
                chunk,
            ):
                rows.append((int(identity), int(person), str(key)))
                stored[int(person)] = str(name)
        names = self._names.names(stored)  # never a name signed only where it may not read
        keys = self._shown_keys({person: key for _, person, key in rows})
        return {identity: PersonRef(keys[person], names[person]) for identity, person, _ in rows}

    def _shown_keys(self, keys: dict[int, str]) -> dict[int, str]:
        """The key this reader is shown for each person (id -> live key): its own, unless that
        key is the hash of an address with no post the reader may read (a public poster merged
        into someone known only from private posts); then the key of one of its addresses
        that has such a post, which names the same person through the merge."""
        if not self.viewer.hides_messages:
            return keys
        from store import identities as store_identities

        out = dict(keys)
        tainted = self._names.tainted()
        visible = self.viewer.messages("m")
        for person, key in keys.items():
            if person not in tainted or self._own_post(key, person):
                continue
            for kind, value in self.conn.execute(
                "SELECT i.kind, i.value FROM identities i WHERE i.person = ? AND EXISTS "
                f"(SELECT 1 FROM messages m WHERE m.identity = i.id AND {visible}) ORDER BY i.id",
                (person,),
            ):
                alias = store_identities.person_key(
                    store_identities.IdentityRef(str(kind), str(value))
                )
                if store_identities.resolve(self.conn, alias) == person:
                    out[person] = alias
                    break
        return out


def resolve_query(query: Query, persons: PersonResolver | None) -> Query:
    """`query` with its ``person:`` filters resolved; refused without a resolver."""
    if not query.persons:
        return query
    if persons is None:
        raise SearchQueryError("person: filters need the archive's persons (not available here)")
    return resolve_persons(query, persons.identities_of)


def person_facet(
    counts: Iterable[tuple[int, int]], persons: Mapping[int, PersonRef], size: int = FACET_SIZE
) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """Sum (identity, count) pairs per person: the top `size` (person key, count) pairs (count
    descending, then name, then key) and the names of those persons.  Identities without a
    person (0: the sender had none when indexed) are left out."""
    totals: dict[str, int] = {}
    names: dict[str, str] = {}
    for identity, count in counts:
        person = persons.get(identity)
        if person is None:
            continue
        totals[person.key] = totals.get(person.key, 0) + count
        names[person.key] = person.name
    top = sorted(totals.items(), key=lambda kv: (-kv[1], names[kv[0]].casefold(), kv[0]))[:size]
    return top, {key: names[key] for key, _ in top}


def sender_facet(
    counts: list[tuple[int, int]], persons: PersonResolver
) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """The sender facet (person keys and counts, and their names) from per-identity counts."""
    return person_facet(
        counts, persons.persons_of([identity for identity, _ in counts if identity])
    )
