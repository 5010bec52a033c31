"""Web accounts in the store: scrypt hashes, validation, roles, authentication."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import accounts, sessions
from store.accounts import Account, AccountError, UnknownUserError
from store.store import Store

PASSWORD = "correct horse battery"
NOW = 1_750_000_000.0


@pytest.fixture()
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    store = Store(tmp_path / "store.db")
    yield store.conn
    store.close()


def stored_hash(conn: sqlite3.Connection, username: str) -> str:
    row = conn.execute("SELECT password_hash FROM users WHERE username = ?", (username,)).fetchone()
    return str(row[0])


def test_passwords_are_salted_scrypt_hashes(conn: sqlite3.Connection) -> None:
    accounts.create_user(conn, "alice", PASSWORD, "facilitator")
    accounts.create_user(conn, "bob", PASSWORD, "facilitator")
    alice, bob = stored_hash(conn, "alice"), stored_hash(conn, "bob")
    assert PASSWORD not in alice
    assert alice != bob  # a random salt each
    scheme, n, r, p, salt, digest = alice.split("$")
    cost = accounts.hash_cost
    assert (scheme, n, r, p) == ("scrypt", str(cost.n), str(cost.r), str(cost.p))
    assert len(salt) == 24 and len(digest) == 44  # 16 and 32 bytes, base64
    dump = "\n".join(conn.iterdump())
    assert PASSWORD not in dump


def test_authenticate(conn: sqlite3.Connection) -> None:
    created = accounts.create_user(conn, "alice@example.org", PASSWORD, "secretariat")
    assert created == Account("alice@example.org", "secretariat", created.created_at, False)
    assert accounts.authenticate(conn, "alice@example.org", PASSWORD) == created
    assert accounts.authenticate(conn, "alice@example.org", PASSWORD + "x") is None
    assert accounts.authenticate(conn, "Alice@example.org", PASSWORD) is None
    assert accounts.authenticate(conn, "nobody", PASSWORD) is None
    assert accounts.authenticate(conn, "bad name", PASSWORD) is None
    assert accounts.authenticate(conn, "alice@example.org", "x" * 5000) is None

    accounts.set_disabled(conn, "alice@example.org", True)
    assert accounts.authenticate(conn, "alice@example.org", PASSWORD) is None
    assert accounts.list_users(conn)[0].disabled
    accounts.set_disabled(conn, "alice@example.org", False)
    assert accounts.authenticate(conn, "alice@example.org", PASSWORD) is not None


def test_unknown_users_cost_a_hash_too(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing oracle: an unknown or malformed name is checked against a dummy hash."""
    calls: list[str] = []
    real = accounts.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(stored)
        return real(password, stored)

    monkeypatch.setattr(accounts, "verify_password", counting)
    accounts.create_user(conn, "alice", PASSWORD, "facilitator")
    for name in ("alice", "nobody", "bad name!", ""):
        accounts.authenticate(conn, name, PASSWORD)
    assert len(calls) == 4
    cost = accounts.hash_cost
    assert all(c.startswith(f"scrypt${cost.n}${cost.r}${cost.p}$") for c in calls)


def test_password_change(conn: sqlite3.Connection) -> None:
    accounts.create_user(conn, "alice", PASSWORD, "facilitator")
    accounts.set_password(conn, "alice", "a new password")
    assert accounts.authenticate(conn, "alice", PASSWORD) is None
    assert accounts.authenticate(conn, "alice", "a new password") is not None


def test_account_changes_end_its_sessions(conn: sqlite3.Connection) -> None:
    """Password change, disabling and removal delete the account's session rows (issue 11)."""
    for name in ("alice", "bob"):
        accounts.create_user(conn, name, PASSWORD, "facilitator")

    def open_sessions() -> list[str]:
        for name in ("alice", "bob"):
            sessions.create(conn, name, now=NOW, lifetime=3600, client="192.0.2.1")
        return sorted(s.username for s in sessions.live_sessions(conn, now=NOW))

    assert open_sessions() == ["alice", "bob"]
    assert accounts.set_password(conn, "alice", "a new password") == 1
    assert [s.username for s in sessions.live_sessions(conn, now=NOW)] == ["bob"]
    accounts.set_role(conn, "bob", "secretariat")  # a role change keeps the sessions
    assert open_sessions() == ["alice", "bob", "bob"]
    assert accounts.set_disabled(conn, "bob", True) == 2
    assert accounts.set_disabled(conn, "bob", False) == 0
    assert [s.username for s in sessions.live_sessions(conn, now=NOW)] == ["alice"]
    assert accounts.remove_user(conn, "alice") == 1
    assert sessions.live_sessions(conn, now=NOW) == []


def test_validation(conn: sqlite3.Connection) -> None:
    for bad in ("", "a" * 65, "with space", "semi;colon", "ünïcode"):
        with pytest.raises(AccountError, match="username"):
            accounts.create_user(conn, bad, PASSWORD, "facilitator")
    with pytest.raises(AccountError, match="at least 10"):
        accounts.create_user(conn, "alice", "short", "facilitator")
    with pytest.raises(AccountError, match="role"):
        accounts.create_user(conn, "alice", PASSWORD, "admin")
    accounts.create_user(conn, "a" * 64, PASSWORD, "facilitator")
    accounts.create_user(conn, "Jane.Doe_2@example-org", PASSWORD, "facilitator")
    with pytest.raises(AccountError, match="already exists"):
        accounts.create_user(conn, "jane.doe_2@EXAMPLE-ORG", PASSWORD, "secretariat")
    with pytest.raises(AccountError, match="at least 10"):
        accounts.set_password(conn, "Jane.Doe_2@example-org", "short")
    assert [a.username for a in accounts.list_users(conn)] == ["Jane.Doe_2@example-org", "a" * 64]


def test_unknown_user_operations(conn: sqlite3.Connection) -> None:
    with pytest.raises(UnknownUserError):
        accounts.set_password(conn, "nobody", PASSWORD)
    with pytest.raises(UnknownUserError):
        accounts.set_disabled(conn, "nobody", True)
    with pytest.raises(UnknownUserError):
        accounts.remove_user(conn, "nobody")
    with pytest.raises(UnknownUserError):
        accounts.set_role(conn, "nobody", "secretariat")
    assert not conn.in_transaction


def test_remove_and_role(conn: sqlite3.Connection) -> None:
    accounts.create_user(conn, "alice", PASSWORD, "facilitator")
    accounts.set_role(conn, "alice", "secretariat")
    assert accounts.get_account(conn, "alice") == Account(
        "alice", "secretariat", accounts.list_users(conn)[0].created_at, False
    )
    accounts.remove_user(conn, "alice")
    assert accounts.get_account(conn, "alice") is None
    assert accounts.list_users(conn) == []


def test_role_allows() -> None:
    assert accounts.role_allows("facilitator", "facilitator")
    assert accounts.role_allows("secretariat", "facilitator")
    assert accounts.role_allows("secretariat", "secretariat")
    assert not accounts.role_allows("facilitator", "secretariat")
    assert not accounts.role_allows("admin", "facilitator")
    assert not accounts.role_allows("secretariat", "admin")


def test_malformed_hashes_never_match() -> None:
    good = accounts.hash_password(PASSWORD)
    assert accounts.verify_password(PASSWORD, good)
    scheme, n, r, p, salt, digest = good.split("$")
    for bad in (
        "",
        "plain",
        f"bcrypt${n}${r}${p}${salt}${digest}",
        f"scrypt${2**30}${r}${p}${salt}${digest}",
        f"scrypt${n}${r}${p}$!!${digest}",
        f"scrypt${n}${r}${p}${salt}$",
    ):
        assert not accounts.verify_password(PASSWORD, bad)


def test_unicode_passwords_are_normalised(conn: sqlite3.Connection) -> None:
    composed = "caf\u00e9-password"
    decomposed = "cafe\u0301-password"
    accounts.create_user(conn, "alice", composed, "facilitator")
    assert accounts.authenticate(conn, "alice", decomposed) is not None


def test_store_without_users_table_authenticates_nobody(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db")
    try:
        assert accounts.authenticate(conn, "alice", PASSWORD) is None
    finally:
        conn.close()


# -- scrypt parameters (issue 11) ------------------------------------------------------------


def test_new_hashes_follow_current_guidance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real default (tests elsewhere hash at a lower cost, see tests/conftest.py)."""
    monkeypatch.setattr(accounts, "hash_cost", accounts.DEFAULT_COST)
    assert (accounts.DEFAULT_COST.n, accounts.DEFAULT_COST.r, accounts.DEFAULT_COST.p) == (
        2**17,
        8,
        1,
    )
    stored = accounts.hash_password(PASSWORD)
    assert stored.startswith("scrypt$131072$8$1$")
    assert accounts.verify_password(PASSWORD, stored)
    assert not accounts.verify_password(PASSWORD + "x", stored)
    assert not accounts.needs_rehash(stored)


def test_old_parameters_verify_and_upgrade_on_login(conn: sqlite3.Connection) -> None:
    accounts.create_user(conn, "alice", PASSWORD, "facilitator")
    old = accounts.hash_password(PASSWORD, accounts.ScryptCost(2**14, 8, 1))  # issue 7's cost
    assert old.startswith("scrypt$16384$8$1$") and accounts.needs_rehash(old)
    conn.execute("UPDATE users SET password_hash = ? WHERE username = 'alice'", (old,))
    assert accounts.authenticate(conn, "alice", PASSWORD + "x") is None
    assert stored_hash(conn, "alice") == old  # a wrong password changes nothing
    assert accounts.authenticate(conn, "alice", PASSWORD) is not None
    upgraded = stored_hash(conn, "alice")
    cost = accounts.hash_cost
    assert upgraded != old and upgraded.startswith(f"scrypt${cost.n}${cost.r}${cost.p}$")
    assert not accounts.needs_rehash(upgraded)
    assert accounts.authenticate(conn, "alice", PASSWORD) is not None
    assert stored_hash(conn, "alice") == upgraded  # once only


def test_hashes_too_costly_to_check_never_match() -> None:
    """A stored hash asking for more memory than allowed is refused, not computed."""
    good = accounts.hash_password(PASSWORD)
    _, _, _, _, salt, digest = good.split("$")
    assert not accounts.verify_password(PASSWORD, f"scrypt${2**20}$8$1${salt}${digest}")
