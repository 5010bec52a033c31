"""Login throttling (issue 11): failed logins are counted per account and per client address
in the store, so every web worker and thread shares the counts.

After `free_attempts` failures, each further attempt for that account, or from that address,
must wait a delay that doubles with every failure (1 s, 2 s, 4 s, ...) up to `max_delay`.  An
attempt made during the wait is refused *before* the password is checked, so the right
password does not work during a lockout either.  Refusals are not counted (they do not push
the wait further out).  A success forgets the account's failures; the address keeps its
count (a guesser cannot clear it by logging in to an account of their own).  A count that
saw no failure for `FORGET_AFTER` seconds (or twice `max_delay`, if longer) starts again.

Each attempt is counted as a failure *before* the password is checked, in the same write
transaction as the check (`begin`), and taken back when it succeeds (`succeeded`): parallel
attempts are serialised by SQLite's write lock, so a burst of concurrent guesses gets no more
free attempts than a sequence of them.

Pure rules (`delay_after`, `address_key`, `account_key`) take their inputs as parameters;
the storage functions take the time `now` (Unix seconds) from the caller.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from dataclasses import dataclass

from store.tx import write

ACCOUNT = "account"
ADDRESS = "address"
FORGET_AFTER = 24 * 3600.0
MAX_KEY_CHARS = 64


@dataclass(frozen=True, slots=True)
class Limits:
    free_attempts: int
    max_delay: float

    @property
    def forget_after(self) -> float:
        return max(FORGET_AFTER, 2 * self.max_delay)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The verdict on a login attempt: `wait` > 0 means refused (try again in `wait` seconds,
    the password was not checked); otherwise it goes ahead, already counted."""

    wait: float
    account_failures: int
    address_failures: int

    @property
    def refused(self) -> bool:
        return self.wait > 0


def delay_after(failures: int, limits: Limits) -> float:
    """Seconds the next attempt must wait after `failures` failures (0: none)."""
    if failures < limits.free_attempts:
        return 0.0
    exponent = min(failures - limits.free_attempts, 62)
    return float(min(limits.max_delay, 2.0**exponent))


def account_key(username: str) -> str:
    """The account an attempt counts against: the name as typed, case-folded, bounded."""
    return username.strip().casefold()[:MAX_KEY_CHARS]


def address_key(address: str) -> str:
    """The client an attempt counts against: an IPv4 address, or the /64 network of an IPv6
    address (one subscriber usually holds a whole /64); anything else as given, bounded."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:MAX_KEY_CHARS]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _state(
    conn: sqlite3.Connection, kind: str, key: str, now: float, limits: Limits
) -> tuple[int, float]:
    """The failures counted for (kind, key), and the wait they impose from `now`."""
    row = conn.execute(
        "SELECT failures, last_at FROM login_attempts WHERE kind = ? AND key = ?", (kind, key)
    ).fetchone()
    if row is None or now - float(row[1]) > limits.forget_after:
        return 0, 0.0
    failures = int(row[0])
    return failures, max(0.0, float(row[1]) + delay_after(failures, limits) - now)


def _count(conn: sqlite3.Connection, kind: str, key: str, failures: int, now: float) -> int:
    conn.execute(
        "INSERT INTO login_attempts (kind, key, failures, last_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET failures = excluded.failures, "
        "last_at = excluded.last_at",
        (kind, key, failures + 1, now),
    )
    return failures + 1


def begin(
    conn: sqlite3.Connection, account: str, address: str, *, now: float, limits: Limits
) -> Attempt:
    """Decide whether a login attempt for `account` from `address` (keys from `account_key`
    and `address_key`) may check its password now; if so, count it as a failure until
    `succeeded` says otherwise."""
    with write(conn):
        account_failures, account_wait = _state(conn, ACCOUNT, account, now, limits)
        address_failures, address_wait = _state(conn, ADDRESS, address, now, limits)
        wait = max(account_wait, address_wait)
        if wait > 0:
            return Attempt(wait, account_failures, address_failures)
        conn.execute("DELETE FROM login_attempts WHERE last_at < ?", (now - limits.forget_after,))
        return Attempt(
            0.0,
            _count(conn, ACCOUNT, account, account_failures, now),
            _count(conn, ADDRESS, address, address_failures, now),
        )


def succeeded(conn: sqlite3.Connection, account: str, address: str) -> None:
    """The attempt `begin` let through had the right password: forget the account's
    failures and take back the one counted for the address."""
    with write(conn):
        conn.execute("DELETE FROM login_attempts WHERE kind = ? AND key = ?", (ACCOUNT, account))
        conn.execute(
            "UPDATE login_attempts SET failures = max(failures - 1, 0) WHERE kind = ? AND key = ?",
            (ADDRESS, address),
        )
