"""Which messages are removed now: the one SQL test every reader applies (`store.visibility`).

Apart from `store.removals` (which records, undoes and purges removals) so that a reader, such
as `listarchive search`, imports neither the removal machinery nor the message records it
uses (issue 14, CLI start-up); `store.removals` re-exports both names."""

from __future__ import annotations

import sqlite3

ACTIVE_KEYS = (
    "SELECT rm.message_key FROM removal_marks rm JOIN removals r ON r.id = rm.removal "
    "WHERE r.undone_at IS NULL"
)
"""SQL: the keys of the messages removed now (the one test, used by `store.visibility`)."""


def any_active(conn: sqlite3.Connection) -> bool:
    """Some message is removed now (a store from before removals has none)."""
    try:
        return bool(conn.execute(f"SELECT EXISTS ({ACTIVE_KEYS})").fetchone()[0])
    except sqlite3.OperationalError:  # a read-only store not yet migrated
        return False
