"""Server-side web sessions (issue 11): every login is a row, so it can be ended at once.

The browser's signed cookie carries only a random session token (256 bits); the store keeps
its SHA-256 (`id_hash`), so reading the database (or a backup) gives no usable cookie.  A
request is logged in only while its row exists and has not expired: logging out deletes the
row, and a password change, disabling or removing the account (`store.accounts`) delete all
the account's rows in the same transaction.  The lifetime is absolute (`expires_at` is fixed
at login from `web.session_hours`), however active the session is.

Times are Unix seconds passed in by the caller (`now`), so tests use a fake clock.  A store
whose schema predates these tables (a read-only web connection to a store no writer has
migrated yet) simply has no sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

from store.tx import write

TOKEN_BYTES = 32
PUBLIC_ID_CHARS = 12
"""How much of `id_hash` names a session to people (`listarchive users sessions`)."""
MAX_CLIENT_CHARS = 200


@dataclass(frozen=True, slots=True)
class WebSession:
    id: str
    """A short public name of the session (a prefix of the token's digest, not the token)."""
    username: str
    created_at: int
    last_seen: int
    expires_at: int
    client: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "created_at": self.created_at,
            "last_seen": self.last_seen,
            "expires_at": self.expires_at,
            "client": self.client,
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _missing_table(exc: sqlite3.OperationalError) -> bool:
    return "no such table" in str(exc)


def _session(row: tuple[str, str, int, int, int, str]) -> WebSession:
    return WebSession(row[0][:PUBLIC_ID_CHARS], row[1], row[2], row[3], row[4], row[5])


_COLUMNS = "id_hash, username, created_at, last_seen, expires_at, client"


def create(
    conn: sqlite3.Connection, username: str, *, now: float, lifetime: float, client: str
) -> str:
    """A new session for `username`; returns its token (for the cookie, never stored).

    Expired sessions of everyone are deleted on the way."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    at = int(now)
    with write(conn):
        conn.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (at,))
        conn.execute(
            f"INSERT INTO web_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (digest(token), username, at, at, int(now + lifetime), client[:MAX_CLIENT_CHARS]),
        )
    return token


def lookup(conn: sqlite3.Connection, token: str, *, now: float) -> WebSession | None:
    """The live session of `token`, or None (unknown, ended or expired)."""
    if not token:
        return None
    try:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM web_sessions WHERE id_hash = ? AND expires_at > ?",
            (digest(token), int(now)),
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if _missing_table(exc):
            return None
        raise
    return _session(row) if row else None


def touch(conn: sqlite3.Connection, token: str, *, now: float) -> None:
    """Record that the session was used at `now` (shown by `listarchive users sessions`)."""
    with write(conn):
        conn.execute(
            "UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?", (int(now), digest(token))
        )


def end(conn: sqlite3.Connection, token: str) -> bool:
    """End one session (logging out); whether it existed."""
    with write(conn):
        return (
            conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (digest(token),)).rowcount
            > 0
        )


def end_all(conn: sqlite3.Connection, username: str) -> int:
    """End every session of `username` (inside the caller's transaction if there is one);
    returns how many there were."""
    with write(conn):
        try:
            return conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,)).rowcount
        except sqlite3.OperationalError as exc:
            if _missing_table(exc):
                return 0
            raise


def end_by_id(conn: sqlite3.Connection, username: str, session_id: str) -> bool:
    """End the session of `username` whose public id is `session_id`; whether there was one."""
    if len(session_id) != PUBLIC_ID_CHARS or not all(c in "0123456789abcdef" for c in session_id):
        return False
    with write(conn):
        ended = conn.execute(
            "DELETE FROM web_sessions WHERE substr(id_hash, 1, ?) = ? AND username = ?",
            (PUBLIC_ID_CHARS, session_id, username),
        ).rowcount
    return ended > 0


def live_sessions(
    conn: sqlite3.Connection, *, now: float, username: str | None = None
) -> list[WebSession]:
    """The sessions that have not expired (of one account, or of all), oldest first."""
    sql = f"SELECT {_COLUMNS} FROM web_sessions WHERE expires_at > ?"
    args: tuple[object, ...] = (int(now),)
    if username is not None:
        sql += " AND username = ?"
        args += (username,)
    try:
        rows = conn.execute(sql + " ORDER BY created_at, id_hash", args).fetchall()
    except sqlite3.OperationalError as exc:
        if _missing_table(exc):
            return []
        raise
    return [_session(row) for row in rows]
