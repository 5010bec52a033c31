"""Member rosters of lists, imported from Mailman exports (parsing: `store.roster_formats`).

Each import is a snapshot dated `as_of` (the day the export was taken; default the day of the
import).  A list's *current* roster is its snapshot with the latest `as_of` (the latest import
among equal dates): importing a newer export replaces it, older snapshots stay as history.
Importing is idempotent: when a snapshot of the list with the same `as_of` (or, without an
explicit `as_of`, the current snapshot) already holds exactly the same members and names,
nothing is stored and the import reports `unchanged`.

An import that holds no member is refused (`RosterError`) unless the export itself says the
list is empty (`ParsedRoster.empty_export`): a wrong file (a meeting summary, a report) would
otherwise become the current roster and turn every member into "removed".  A snapshot can be
deleted, and `rollback` deletes the snapshots after a chosen one so that it is current again.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from store.roster_formats import ParsedRoster, RosterMember

logger = logging.getLogger(__name__)


class RosterError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Roster:
    id: int
    list_name: str
    format: str
    source: str
    as_of: str
    imported_at: str
    members: int
    current: bool

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as `rosters --json` and the `/rosters` twins show it."""
        return {
            "id": self.id,
            "list": self.list_name,
            "as_of": self.as_of,
            "members": self.members,
            "format": self.format,
            "source": self.source,
            "imported_at": self.imported_at,
            "current": self.current,
        }


@dataclass(frozen=True, slots=True)
class ImportResult:
    roster: Roster
    unchanged: bool
    added: int  # addresses not on the list's previous current roster
    removed: int  # addresses of the previous current roster no longer on it
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]
    dry_run: bool = False  # nothing was stored; `roster.id` is 0


def _list_id(conn: sqlite3.Connection, list_name: str) -> int:
    row = conn.execute("SELECT id FROM lists WHERE name = ?", (list_name,)).fetchone()
    if row is None:
        raise RosterError(f"unknown list {list_name!r}")
    return int(row[0])


_SELECT = (
    "SELECT r.id, l.name, r.format, r.source, r.as_of, r.imported_at, "
    "(SELECT COUNT(*) FROM roster_members m WHERE m.roster = r.id) "
    "FROM rosters r JOIN lists l ON l.id = r.list"
)


def _current_ids(conn: sqlite3.Connection) -> set[int]:
    rows = conn.execute(
        "SELECT r.id FROM rosters r WHERE r.id = (SELECT r2.id FROM rosters r2 "
        "WHERE r2.list = r.list ORDER BY r2.as_of DESC, r2.id DESC LIMIT 1)"
    )
    return {int(r[0]) for r in rows}


def _roster(row: tuple[object, ...], current: set[int]) -> Roster:
    rid = int(str(row[0]))
    return Roster(
        rid,
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        int(str(row[6])),
        rid in current,
    )


def all_rosters(conn: sqlite3.Connection) -> list[Roster]:
    """Every snapshot, by list then newest first."""
    current = _current_ids(conn)
    rows = conn.execute(_SELECT + " ORDER BY l.name, r.as_of DESC, r.id DESC").fetchall()
    return [_roster(r, current) for r in rows]


def current_roster(conn: sqlite3.Connection, list_name: str) -> Roster | None:
    list_id = _list_id(conn, list_name)
    row = conn.execute(
        _SELECT + " WHERE r.list = ? ORDER BY r.as_of DESC, r.id DESC LIMIT 1", (list_id,)
    ).fetchone()
    return _roster(row, {int(row[0])}) if row else None


def members(conn: sqlite3.Connection, roster_id: int) -> list[RosterMember]:
    return [
        RosterMember(str(a), str(n))
        for a, n in conn.execute(
            "SELECT address, name FROM roster_members WHERE roster = ? ORDER BY address",
            (roster_id,),
        )
    ]


def _same(conn: sqlite3.Connection, roster_id: int, wanted: set[tuple[str, str]]) -> bool:
    return {(m.address, m.name) for m in members(conn, roster_id)} == wanted


def import_roster(
    conn: sqlite3.Connection,
    list_name: str,
    parsed: ParsedRoster,
    *,
    source: str,
    as_of: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Store `parsed` as the roster of `list_name` on `as_of` (YYYY-MM-DD; default today);
    with `dry_run`, only say what the import would do."""
    list_id = _list_id(conn, list_name)
    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError as exc:
            raise RosterError(f"as_of must be YYYY-MM-DD, not {as_of!r}") from exc
    if not parsed.members and not parsed.empty_export:
        raise RosterError(
            f"{source} holds no member address ({len(parsed.skipped)} lines without one): "
            "not a roster export, nothing imported"
        )
    wanted = {(m.address, m.name) for m in parsed.members}
    previous = current_roster(conn, list_name)
    before = {m.address for m in members(conn, previous.id)} if previous else set()
    after = {m.address for m in parsed.members}
    candidates = (
        [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM rosters WHERE list = ? AND as_of = ? ORDER BY id DESC",
                (list_id, as_of),
            )
        ]
        if as_of
        else ([previous.id] if previous else [])
    )
    for candidate in candidates:
        if _same(conn, candidate, wanted):
            found = next(r for r in all_rosters(conn) if r.id == candidate)
            logger.info("roster of %s: unchanged (snapshot %d)", list_name, candidate)
            return ImportResult(found, True, 0, 0, parsed.skipped, parsed.warnings, dry_run)
    now = datetime.now(UTC)
    if dry_run:
        day = as_of or now.date().isoformat()
        current = previous is None or day >= previous.as_of
        preview = Roster(0, list_name, parsed.format, source, day, "", len(after), current)
        return ImportResult(
            preview,
            False,
            len(after - before),
            len(before - after),
            parsed.skipped,
            parsed.warnings,
            True,
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        cursor = conn.execute(
            "INSERT INTO rosters (list, format, source, as_of, imported_at) VALUES (?, ?, ?, ?, ?)",
            (
                list_id,
                parsed.format,
                source,
                as_of or now.date().isoformat(),
                now.isoformat(timespec="seconds"),
            ),
        )
        roster_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO roster_members (roster, address, name) VALUES (?, ?, ?)",
            [(roster_id, m.address, m.name) for m in parsed.members],
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    stored = next(r for r in all_rosters(conn) if r.id == roster_id)
    logger.info(
        "roster of %s as of %s: %d member%s (%d added, %d removed)",
        list_name,
        stored.as_of,
        stored.members,
        "" if stored.members == 1 else "s",
        len(after - before),
        len(before - after),
    )
    return ImportResult(
        stored, False, len(after - before), len(before - after), parsed.skipped, parsed.warnings
    )


def snapshots(conn: sqlite3.Connection, list_name: str) -> list[Roster]:
    """The snapshots of one list, newest (current) first."""
    list_id = _list_id(conn, list_name)
    current = _current_ids(conn)
    rows = conn.execute(
        _SELECT + " WHERE r.list = ? ORDER BY r.as_of DESC, r.id DESC", (list_id,)
    ).fetchall()
    return [_roster(r, current) for r in rows]


def _delete(conn: sqlite3.Connection, ids: list[int]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for roster_id in ids:
            conn.execute("DELETE FROM roster_members WHERE roster = ?", (roster_id,))
            conn.execute("DELETE FROM rosters WHERE id = ?", (roster_id,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def delete_roster(conn: sqlite3.Connection, roster_id: int) -> Roster:
    """Delete one snapshot (any list's); the list's next newest becomes current."""
    found = next((r for r in all_rosters(conn) if r.id == roster_id), None)
    if found is None:
        raise RosterError(f"no roster snapshot {roster_id}")
    _delete(conn, [roster_id])
    logger.info(
        "roster snapshot %d of %s (as of %s) deleted", roster_id, found.list_name, found.as_of
    )
    return found


def rollback(
    conn: sqlite3.Connection, list_name: str, to: int | None = None
) -> tuple[Roster, list[Roster]]:
    """Make snapshot `to` (default: the one before the current) the list's current roster by
    deleting the snapshots after it; (the now current snapshot, the deleted ones)."""
    history = snapshots(conn, list_name)
    if to is None:
        if len(history) < 2:
            raise RosterError(
                f"list {list_name} has {len(history)} roster snapshot(s): nothing to roll back "
                "to (`rosters delete ID` deletes one)"
            )
        target = history[1]
    else:
        found = next((r for r in history if r.id == to), None)
        if found is None:
            raise RosterError(f"no roster snapshot {to} of list {list_name}")
        target = found
    newer = history[: history.index(target)]
    _delete(conn, [r.id for r in newer])
    logger.info(
        "roster of %s rolled back to snapshot %d (as of %s): %d deleted",
        list_name,
        target.id,
        target.as_of,
        len(newer),
    )
    return replace(target, current=True), newer
