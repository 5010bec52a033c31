"""Web accounts: who may log in to the web UI and with which role (issue 7).

Accounts are created with the CLI (`listarchive users ...`), never from the web.  Passwords are
hashed with scrypt (stdlib `hashlib.scrypt`, a random 16-byte salt per password) and stored as
a self-describing string `scrypt$n$r$p$salt$hash` (base64).  New hashes use `hash_cost`
(`DEFAULT_COST`: N=2^17, r=8, p=1, OWASP's current guidance, 128 MiB and ~0.3 s each); a hash
is always checked with the parameters stored in it, and one made with other parameters is
replaced at the next successful login (`authenticate`), so raising the cost upgrades every
account as it logs in.  At most `MAX_CONCURRENT_HASHES` hashes are computed at once per
process (memory), and stored parameters needing more than `MAX_MEMORY` are refused.
`authenticate` costs the same for unknown, disabled and existing accounts (a dummy hash is
computed), so timing does not tell which names exist.

Changing the password, disabling or removing an account ends all its web sessions in the same
transaction (`store.sessions`); a role change takes effect at the account's next request.

Roles are ordered: a `secretariat` account may do everything a `facilitator` may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from store import sessions
from store.tx import write

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("facilitator", "secretariat")
"""From least to most privileged: each role may do everything the roles before it may."""

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,64}")

_SCHEME = "scrypt"
_SALT_BYTES = 16
_KEY_BYTES = 32
MAX_MEMORY = 256 * 1024 * 1024
"""Most memory one stored hash may ask for (128 * r * (N + p + 2) bytes): larger is refused."""
MAX_CONCURRENT_HASHES = 2


@dataclass(frozen=True, slots=True)
class ScryptCost:
    n: int
    r: int
    p: int

    @property
    def memory(self) -> int:
        """Bytes scrypt needs with these parameters (as OpenSSL counts them)."""
        return 128 * self.r * (self.n + self.p + 2)

    def usable(self) -> bool:
        return (
            1 < self.n <= 2**24
            and self.n & (self.n - 1) == 0
            and 0 < self.r <= 32
            and 0 < self.p <= 16
            and self.memory <= MAX_MEMORY
        )


DEFAULT_COST = ScryptCost(n=2**17, r=8, p=1)
hash_cost = DEFAULT_COST
"""The parameters of new hashes (tests lower it, see tests/conftest.py)."""
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


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


def _scrypt(password: str, salt: bytes, cost: ScryptCost, dklen: int) -> bytes:
    with _hashing:
        return hashlib.scrypt(
            _normalise(password),
            salt=salt,
            n=cost.n,
            r=cost.r,
            p=cost.p,
            maxmem=cost.memory + 1024 * 1024,
            dklen=dklen,
        )


def hash_password(password: str, cost: ScryptCost | None = None) -> str:
    """A new salted scrypt hash of `password` (with `hash_cost` unless told):
    `scrypt$131072$8$1$<salt>$<hash>`."""
    cost = cost or hash_cost
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, cost, _KEY_BYTES)
    return f"{_SCHEME}${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[ScryptCost, bytes, bytes] | None:
    """The parameters, salt and digest of a stored hash; None if it is malformed or asks
    for more than this program computes."""
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = stored.split("$")
        cost = ScryptCost(int(n_text), int(r_text), int(p_text))
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(digest_text, validate=True)
    except ValueError:
        return None
    if scheme != _SCHEME or not cost.usable() or not salt or not expected:
        return None
    return cost, salt, expected


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash (checked with the parameters stored in
    it); False for a malformed hash."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    cost, salt, expected = parsed
    actual = _scrypt(password, salt, cost, len(expected))
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a (valid) stored hash was made otherwise than new hashes are made now."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    cost, salt, expected = parsed
    return cost != hash_cost or len(salt) != _SALT_BYTES or len(expected) != _KEY_BYTES


_DUMMY_HASHES: dict[ScryptCost, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password at the current cost, computed once: verified against for
    unknown accounts."""
    if hash_cost not in _DUMMY_HASHES:
        _DUMMY_HASHES[hash_cost] = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[hash_cost]


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


def _update(
    conn: sqlite3.Connection, username: str, sql: str, value: object, *, end_sessions: bool
) -> int:
    """Run an UPDATE of one account; with `end_sessions`, end its web sessions in the same
    transaction.  Returns how many sessions ended."""
    with write(conn):
        changed = conn.execute(sql, (value, username)).rowcount
        ended = sessions.end_all(conn, username) if changed and end_sessions else 0
    if not changed:
        raise UnknownUserError(f"no user {username}")
    return ended


def set_password(conn: sqlite3.Connection, username: str, password: str) -> int:
    """Replace the password; the account's web sessions end at once (returns how many)."""
    check_password(password)
    return _update(
        conn,
        username,
        "UPDATE users SET password_hash = ? WHERE username = ?",
        hash_password(password),
        end_sessions=True,
    )


def set_disabled(conn: sqlite3.Connection, username: str, disabled: bool) -> int:
    """Disable (or enable again) an account: a disabled account cannot log in, and its web
    sessions end at once (enabling it again does not bring them back).  Returns how many
    sessions ended."""
    return _update(
        conn,
        username,
        "UPDATE users SET disabled = ? WHERE username = ?",
        int(disabled),
        end_sessions=disabled,
    )


def set_role(conn: sqlite3.Connection, username: str, role: str) -> None:
    """Give an account another role: its sessions stay, and every request re-reads the role,
    so the change takes effect at the next request."""
    check_role(role)
    _update(
        conn, username, "UPDATE users SET role = ? WHERE username = ?", role, end_sessions=False
    )


def remove_user(conn: sqlite3.Connection, username: str) -> int:
    """Delete an account and end its web sessions; returns how many sessions ended."""
    with write(conn):
        removed = conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount
        ended = sessions.end_all(conn, username) if removed else 0
    if not removed:
        raise UnknownUserError(f"no user {username}")
    return ended


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
    stored = str(row[4])
    matches = verify_password(password, stored)
    if not matches or row[3]:
        return None
    if needs_rehash(stored):
        _upgrade_hash(conn, str(row[0]), stored, password)
    return _account(row[:4])


def _upgrade_hash(conn: sqlite3.Connection, username: str, stored: str, password: str) -> None:
    """Re-hash a password just proven right with the current parameters.  The same password,
    so sessions stay; only if the hash is still the one checked (a concurrent password change
    wins); skipped quietly on a read-only connection (the next login tries again)."""
    new_hash = hash_password(password)
    try:
        with write(conn):
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?",
                (new_hash, username, stored),
            )
    except sqlite3.OperationalError as exc:
        logger.warning("password hash of %s not upgraded: %s", username, exc)
        return
    logger.info("password hash of %s upgraded to scrypt N=%d", username, hash_cost.n)
