"""Compare stores: everything that must be identical after equivalent runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def dump_store(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {
            "messages": conn.execute(
                "SELECT key, message_id, message_id_norm, content_hash, subject, date, "
                "raw_sha256, thread_id, parent_key, depth, thread_pos, content FROM messages "
                "ORDER BY key"
            ).fetchall(),
            "memberships": conn.execute(
                "SELECT m.key, l.name, ms.origin, ms.position FROM memberships ms "
                "JOIN messages m ON m.id = ms.message JOIN lists l ON l.id = ms.list "
                "ORDER BY m.key, l.name"
            ).fetchall(),
            "threads": conn.execute("SELECT * FROM threads ORDER BY thread_id").fetchall(),
            "msgnodes": conn.execute("SELECT * FROM msgnodes ORDER BY 1").fetchall(),
            "quarantine": conn.execute(
                "SELECT origin, position, reason, raw_sha256 FROM quarantine ORDER BY 1, 2"
            ).fetchall(),
            "volumes": conn.execute(
                "SELECT name, url, etag, last_modified, sha256, size, message_count, status "
                "FROM volumes ORDER BY name"
            ).fetchall(),
        }
    finally:
        conn.close()


def stored_volumes(path: Path) -> int:
    """Volumes recorded so far (0 before the store exists or while it is locked)."""
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(path, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM volumes").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0
