"""Web accounts: who may log in to the web UI and with which role (issue 7).

Accounts are created with the CLI (`listarchive users ...`), never from the web.  Passwords are
hashed with scrypt (stdlib `hashlib.scrypt`, a random 16-byte salt per password) and stored as
a self-describing string `scrypt$n$r$p$salt$hash` (base64), so the cost can be raised later
without breaking existing hashes.  `authenticate` costs the same for unknown, disabled and
existing accounts (a dummy hash is computed), so timing does not tell which names exist.

Roles are ordered: a `secretariat` account may do everything a `facilitator` may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from store.tx import write

ROLES: tuple[str, ...] = ("facilitator", "secretariat")
"""From least to most privileged: each role may do everything the roles before it may."""

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,64}")

_SCHEME = "scrypt"
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_N = 2**20
_MAXMEM = 256 * 1024 * 1024


class AccountError(Exception):
    """An account operation was refused; the message says why (never contains a password)."""


class UnknownUserError(AccountError):
    pass


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: str
    created_at: str
    disabled: bool


def role_allows(user_role: str, required_role: str) -> bool:
    """Whether an account with `user_role` may see what `required_role` may see."""
    if user_role not in ROLES or required_role not in ROLES:
        return False
    return ROLES.index(user_role) >= ROLES.index(required_role)


# -- hashing -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _normalise(password: str) -> bytes:
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        _normalise(password), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=dklen
    )


def hash_password(password: str) -> str:
    """A new salted scrypt hash of `password`: `scrypt$16384$8$1$<salt>$<hash>`."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, _N, _R, _P, _KEY_BYTES)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash; False for a malformed hash."""
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(digest_text, validate=True)
    except ValueError:
        return False
    if scheme != _SCHEME or not (1 < n <= _MAX_N) or not (0 < r <= 32) or not (0 < p <= 16):
        return False
    if not salt or not expected:
        return False
    actual = _scrypt(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash of a random password, computed once: verified against for unknown accounts."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


# -- validation ----------------------------------------------------------------------------


def check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username):
        raise AccountError(
            "username must be 1-64 characters: letters, digits, '.', '_', '@' or '-'"
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


# -- storage -------------------------------------------------------------------------------


def _account(row: tuple[str, str, str, int]) -> Account:
    return Account(username=row[0], role=row[1], created_at=row[2], disabled=bool(row[3]))


_COLUMNS = "username, role, created_at, disabled"


def get_account(conn: sqlite3.Connection, username: str) -> Account | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM users WHERE username = ?", (username,)).fetchone()
    return _account(row) if row else None


def list_users(conn: sqlite3.Connection) -> list[Account]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM users ORDER BY username").fetchall()
    return [_account(row) for row in rows]


def create_user(conn: sqlite3.Connection, username: str, password: str, role: str) -> Account:
    """Create an account; refused if the name (compared case-insensitively) is taken."""
    check_username(username)
    check_role(role)
    check_password(password)
    password_hash = hash_password(password)
    created_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    with write(conn):
        taken = conn.execute(
            "SELECT username FROM users WHERE lower(username) = lower(?)", (username,)
        ).fetchone()
        if taken:
            raise AccountError(f"user {taken[0]} already exists")
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at, disabled) "
            "VALUES (?, ?, ?, ?, 0)",
            (username, password_hash, role, created_at),
        )
    return Account(username, role, created_at, False)


def _update(conn: sqlite3.Connection, username: str, sql: str, value: object) -> None:
    with write(conn):
        changed = conn.execute(sql, (value, username)).rowcount
    if not changed:
        raise UnknownUserError(f"no user {username}")


def set_password(conn: sqlite3.Connection, username: str, password: str) -> None:
    """Replace the password (existing web sessions of the account end: see `credential_stamp`)."""
    check_password(password)
    _update(
        conn,
        username,
        "UPDATE users SET password_hash = ? WHERE username = ?",
        hash_password(password),
    )


def set_disabled(conn: sqlite3.Connection, username: str, disabled: bool) -> None:
    """Disable (or enable again) an account: a disabled account cannot log in, and its open
    sessions lose access on their next request."""
    _update(conn, username, "UPDATE users SET disabled = ? WHERE username = ?", int(disabled))


def set_role(conn: sqlite3.Connection, username: str, role: str) -> None:
    check_role(role)
    _update(conn, username, "UPDATE users SET role = ? WHERE username = ?", role)


def remove_user(conn: sqlite3.Connection, username: str) -> None:
    with write(conn):
        removed = conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount
    if not removed:
        raise UnknownUserError(f"no user {username}")


def credential_stamp(conn: sqlite3.Connection, username: str) -> str | None:
    """A short digest of the account's current password hash (None if there is no account).

    A web session remembers it at login; after `set_password` it no longer matches, so
    sessions opened with the old password end."""
    row = conn.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
    if not row:
        return None
    return hashlib.sha256(str(row[0]).encode("utf-8")).hexdigest()[:32]


def _users_table_exists(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'"
    ).fetchone()
    return row is not None


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> Account | None:
    """The account if `username` exists, is enabled and `password` matches; otherwise None.

    One scrypt computation in every case, so the answer time does not reveal whether the
    account exists or is disabled."""
    row = None
    if USERNAME_RE.fullmatch(username) and _users_table_exists(conn):
        row = conn.execute(
            f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
        row = None
    if row is None:
        verify_password(password, _dummy_hash())
        return None
    matches = verify_password(password, str(row[4]))
    if not matches or row[3]:
        return None
    return _account(row[:4])
