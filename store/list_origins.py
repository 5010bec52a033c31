"""Extra origins a list's archive may be fetched from (its host moved; the old one redirects).

A list's requests go to the origin of its own URL only (see `ingest.origins`); these are the
others declared for it with `lists add NAME ... --allow-origin URL` or TOML `allow_origins`.
They are kept in the `meta` table (`allow_origins:<list name>`, a JSON array of
`scheme://host[:port]`), so no schema change was needed; lists are never renamed or removed,
so the name is a stable key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from store import tx

_PREFIX = "allow_origins:"


def allowed_origins(conn: sqlite3.Connection, list_name: str) -> tuple[str, ...]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_PREFIX + list_name,)).fetchone()
    if row is None:
        return ()
    try:
        value = json.loads(row[0])
    except ValueError:
        return ()
    return tuple(str(o) for o in value) if isinstance(value, list) else ()


def set_allowed_origins(conn: sqlite3.Connection, list_name: str, origins: Iterable[str]) -> None:
    """Replace the list's declared origins (none: the row goes)."""
    wanted = sorted(set(origins))
    if list(allowed_origins(conn, list_name)) == wanted:
        return
    with tx.write(conn):
        if wanted:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_PREFIX + list_name, json.dumps(wanted)),
            )
        else:
            conn.execute("DELETE FROM meta WHERE key = ?", (_PREFIX + list_name,))
