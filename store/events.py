"""The record of decisions about persons (`person_events`): merges, splits, undos, "different
people", tags and meeting matches, each with its actor, time and what changed."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from store import identities


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record(
    conn: sqlite3.Connection,
    actor: str,
    action: str,
    detail: dict[str, Any],
    *,
    regrouped: bool = False,
) -> int:
    """Add one event (inside the caller's transaction); returns its id.  `regrouped`: persons
    changed shape (a merge, split or undo), so analytics caches must not be reused."""
    cursor = conn.execute(
        "INSERT INTO person_events (at, actor, action, detail) VALUES (?, ?, ?, ?)",
        (now(), actor, action, json.dumps(detail, sort_keys=True, ensure_ascii=False)),
    )
    if regrouped:
        identities.bump_version(conn)
    return int(cursor.lastrowid or 0)
