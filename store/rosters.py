"""Member rosters of lists, imported from Mailman exports (parsing: `store.roster_formats`).

Each import is a snapshot dated `as_of` (the day the export was taken; default the day of the
import).  A list's *current* roster is its snapshot with the latest `as_of` (the latest import
among equal dates): importing a newer export replaces it, older snapshots stay as history.
Importing is idempotent: when a snapshot of the list with the same `as_of` (or, without an
explicit `as_of`, the current snapshot) already holds exactly the same members and names,
nothing is stored and the import reports `unchanged`.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime

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


@dataclass(frozen=True, slots=True)
class ImportResult:
    roster: Roster
    unchanged: bool
    added: int  # addresses not on the list's previous current roster
    removed: int  # addresses of the previous current roster no longer on it
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]


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
) -> ImportResult:
    """Store `parsed` as the roster of `list_name` on `as_of` (YYYY-MM-DD; default today)."""
    list_id = _list_id(conn, list_name)
    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError as exc:
            raise RosterError(f"as_of must be YYYY-MM-DD, not {as_of!r}") from exc
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
            return ImportResult(found, True, 0, 0, parsed.skipped, parsed.warnings)
    now = datetime.now(UTC)
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
        "roster of %s as of %s: %d members (%d added, %d removed)",
        list_name,
        stored.as_of,
        stored.members,
        len(after - before),
        len(before - after),
    )
    return ImportResult(
        stored, False, len(after - before), len(before - after), parsed.skipped, parsed.warnings
    )
