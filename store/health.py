"""What `listarchive check` and `/healthz` ask of a store: SQLite's own integrity and foreign
key checks, the schema version, files open to others, and the counts of public messages
(the only counts an anonymous visitor may read)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from store.schema import MIGRATIONS, current_version
from store.visibility import for_reader

PROBLEM_LIMIT = 20
"""At most this many problems are listed per check (the first ones SQLite reports)."""


def integrity_problems(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    """`PRAGMA integrity_check` (or the faster `quick_check`, which does not compare indexes
    with their tables): the problems it finds, [] for a sound database."""
    pragma = "quick_check" if quick else "integrity_check"
    rows = conn.execute(f"PRAGMA {pragma}({PROBLEM_LIMIT})").fetchall()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def foreign_key_problems(conn: sqlite3.Connection) -> list[str]:
    """Rows whose reference points at nothing (`PRAGMA foreign_key_check`)."""
    problems = []
    for table, rowid, parent, _fkid in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} refers to a missing {parent} row")
        if len(problems) >= PROBLEM_LIMIT:
            break
    return problems


def schema_versions(conn: sqlite3.Connection) -> tuple[int, int]:
    """(the store's schema version, the version this program writes)."""
    return current_version(conn), len(MIGRATIONS)


def exposed_files(data_dir: Path) -> list[str]:
    """The data directory and the files in it (one level down too) that others may read:
    "name (mode 644)"; [] when all are private."""
    found = []
    try:
        entries = [data_dir, *sorted(data_dir.iterdir())]
    except OSError:
        return []
    for path in entries:
        children = sorted(path.iterdir()) if path.is_dir() and path != data_dir else []
        for item in [path, *children]:
            try:
                mode = stat.S_IMODE(item.lstat().st_mode)
            except OSError:
                continue
            if mode & 0o077 and not item.is_symlink():
                name = "the data directory" if item == data_dir else str(item.relative_to(data_dir))
                found.append(f"{name} (mode {mode:o})")
    return found


def public_counts(conn: sqlite3.Connection, indexed_to: int) -> tuple[int, int]:
    """(public messages, public messages changed after change sequence `indexed_to`): what an
    anonymous reader may see, as `store.visibility` decides it."""
    public = for_reader(conn, include_private=False).messages("m")
    total, after = conn.execute(
        f"SELECT count(*), coalesce(sum(m.seq > ?), 0) FROM messages m WHERE {public}",
        (indexed_to,),
    ).fetchone()
    return int(total), int(after)
