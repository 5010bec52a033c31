"""The lists' rows of the store (`Store.add_list`, `lists`, ...): a part of `store.store.Store`,
which mixes `ListRows` in (its connection, transactions and change sequence are the store's)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from store.errors import StoreError
from store.naming import check_name

if TYPE_CHECKING:
    from store.list_info import ListInfo


class UnknownListError(StoreError):
    pass


def utcnow_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class ListRows:
    """The methods of `Store` over the `lists` table."""

    conn: sqlite3.Connection

    if TYPE_CHECKING:  # the store's (`Store.transaction`, `Store._next_seq`)

        def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _next_seq(self, conn: sqlite3.Connection, count: int = 1) -> int: ...

    def add_list(
        self,
        name: str,
        source: str,
        *,
        url: str = "",
        paths: Sequence[str] = (),
        community: str = "",
        address: str = "",
        private: bool = False,
    ) -> ListInfo:
        """Create a list, or update its source if it exists (re-pointing keeps its messages).

        When an existing list becomes private (or public), its messages get a new change
        sequence, so the search index learns their new visibility.  `community` makes it a
        member of that community too (its other communities stay: `store.communities`).  A
        name (or community) that breaks the rule of `store.naming` is refused
        (InvalidNameError)."""
        check_name(name, "list")
        if community:
            check_name(community, "community")
        with self.transaction() as conn:
            before = conn.execute(
                "SELECT id, private FROM lists WHERE name = ?", (name,)
            ).fetchone()
            conn.execute(
                "INSERT INTO lists (name, source, url, paths, community, created_at, address, "
                "private) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "source = excluded.source, url = excluded.url, paths = excluded.paths, "
                "address = excluded.address, "
                "private = excluded.private",
                (
                    name,
                    source,
                    url,
                    json.dumps(list(paths)),
                    community,
                    utcnow_iso(),
                    address,
                    int(private),
                ),
            )
            if community:
                from store import communities

                list_id = conn.execute("SELECT id FROM lists WHERE name = ?", (name,)).fetchone()
                communities.join(conn, int(list_id[0]), community)
            if before is not None and bool(before[1]) != private:
                conn.execute(
                    "UPDATE messages SET seq = ? WHERE id IN "
                    "(SELECT message FROM memberships WHERE list = ?)",
                    (self._next_seq(conn), before[0]),
                )
        return self.get_list(name)

    def get_list(self, name: str) -> ListInfo:
        """One list, read alone: its cost does not grow with the number of lists."""
        found = self._lists(name)
        if not found:
            raise UnknownListError(f"unknown list {name!r}")
        return found[0]

    def lists(self) -> list[ListInfo]:
        return self._lists(None)

    def last_syncs(self) -> dict[str, str | None]:
        """Every list's name and when it was last synced (None: never), without the counts
        `lists` makes: cheap enough to poll (the scheduler does, to follow added lists)."""
        rows = self.conn.execute("SELECT name, last_sync FROM lists ORDER BY name")
        return {str(name): last_sync for name, last_sync in rows}

    def _lists(self, name: str | None) -> list[ListInfo]:
        where, params = ("WHERE l.name = ? ", (name,)) if name is not None else ("", ())
        rows = self.conn.execute(
            "SELECT l.id, l.name, l.source, l.url, l.paths, l.community, l.created_at, "
            "l.last_sync, (SELECT count(*) FROM memberships m WHERE m.list = l.id), "
            f"l.address, l.private FROM lists l {where}ORDER BY l.name",
            params,
        ).fetchall()
        from store.list_info import ListInfo, of_lists  # a reader's only record (`lists`)

        member_of = of_lists(self.conn)
        return [
            ListInfo(
                r[0],
                r[1],
                r[2],
                r[3],
                tuple(json.loads(r[4])),
                r[5],
                r[6],
                r[7],
                r[8],
                address=r[9],
                private=bool(r[10]),
                communities=member_of.get(r[0], ()),
            )
            for r in rows
        ]

    def mark_synced(self, list_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE lists SET last_sync = ? WHERE id = ?", (utcnow_iso(), list_id))
