"""Web accounts in the store: scrypt hashes, validation, roles, authentication."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import accounts
from store.accounts import Account, AccountError, UnknownUserError
from store.store import Store

PASSWORD = "correct horse battery"


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
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
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
    assert all(c.startswith("scrypt$16384$8$1$") for c in calls)


def test_password_change_and_stamp(conn: sqlite3.Connection) -> None:
    accounts.create_user(conn, "alice", PASSWORD, "facilitator")
    stamp = accounts.credential_stamp(conn, "alice")
    accounts.set_password(conn, "alice", "a new password")
    assert accounts.authenticate(conn, "alice", PASSWORD) is None
    assert accounts.authenticate(conn, "alice", "a new password") is not None
    assert accounts.credential_stamp(conn, "alice") not in (None, stamp)
    assert accounts.credential_stamp(conn, "nobody") is None


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
