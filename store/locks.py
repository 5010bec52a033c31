"""Named locks in the store, so that two processes (two schedulers, or a scheduler and a manual
`sync`) never ingest the same list at once.  A lock has an owner (`host:pid`) and an expiry: a
process that died holding one does not block the list (on the same host its pid is checked at
once; elsewhere the lock expires); a live holder renews it as it works.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=30)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str) -> bool:
    """False only when the owner is a process of this host that no longer exists (killed)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


owner_alive = _alive


def _now() -> datetime:
    return datetime.now(UTC)


def acquire(conn: sqlite3.Connection, name: str, owner: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take the lock `name` for `owner` unless someone else holds an unexpired one."""
    now = _now()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT owner, expires_at FROM locks WHERE name = ?", (name,)).fetchone()
        if (
            row is not None
            and row[0] != owner
            and datetime.fromisoformat(row[1]) > now
            and _alive(row[0])
        ):
            conn.execute("ROLLBACK")
            return False
        if row is not None and row[0] != owner:
            logger.warning("lock %s held by %s is stale: taking it over", name, row[0])
        conn.execute(
            "INSERT INTO locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
            "acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
            (name, owner, now.isoformat(), (now + ttl).isoformat()),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


def renew(conn: sqlite3.Connection, name: str, owner: str, ttl: timedelta = DEFAULT_TTL) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ?",
        ((_now() + ttl).isoformat(), name, owner),
    )
    conn.execute("COMMIT")


def release(conn: sqlite3.Connection, name: str, owner: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
    conn.execute("COMMIT")


def holder(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT owner, expires_at FROM locks WHERE name = ?", (name,)).fetchone()
    if row is None or datetime.fromisoformat(row[1]) <= _now():
        return None
    return str(row[0])
