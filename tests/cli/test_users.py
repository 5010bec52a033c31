"""`listarchive users`: web accounts from the command line; passwords never echoed."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from listarchive.cli import cli
from store import accounts, sessions

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
COMMANDS = [
    "users",
    "users add",
    "users list",
    "users passwd",
    "users role",
    "users disable",
    "users enable",
    "users remove",
    "users sessions",
    "users revoke",
]


def run(data: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), "users", *args], input=input)


def authenticate(data: Path, name: str, password: str) -> accounts.Account | None:
    conn = sqlite3.connect(data / "store.db")
    try:
        return accounts.authenticate(conn, name, password)
    finally:
        conn.close()


def listed(data: Path) -> list[dict[str, object]]:
    result = run(data, "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_add_list_and_lifecycle(data_dir: Path) -> None:
    added = run(
        data_dir, "add", "alice", "--role", "facilitator", "--password-stdin", input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    assert added.stdout == "user alice added (facilitator)\n"
    prompted = run(
        data_dir,
        "add",
        "bob@example.org",
        "--role",
        "secretariat",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output
    for result in (added, prompted):
        assert PASSWORD not in result.output

    rows = listed(data_dir)
    assert [sorted(r) for r in rows] == [["created_at", "disabled", "role", "username"]] * 2
    assert [(r["username"], r["role"], r["disabled"]) for r in rows] == [
        ("alice", "facilitator", False),
        ("bob@example.org", "secretariat", False),
    ]
    assert all(str(r["created_at"]).endswith("+00:00") for r in rows)
    text = run(data_dir, "list")
    assert "alice" in text.output and "secretariat" in text.output

    assert authenticate(data_dir, "bob@example.org", PASSWORD) is not None
    assert run(data_dir, "disable", "alice").stdout == "user alice disabled\n"
    assert listed(data_dir)[0]["disabled"] is True
    assert authenticate(data_dir, "alice", PASSWORD) is None
    assert run(data_dir, "enable", "alice").exit_code == 0
    assert authenticate(data_dir, "alice", PASSWORD) is not None

    changed = run(data_dir, "passwd", "alice", "--password-stdin", input="a brand new secret\n")
    assert changed.exit_code == 0 and "a brand new secret" not in changed.output
    assert authenticate(data_dir, "alice", PASSWORD) is None
    assert authenticate(data_dir, "alice", "a brand new secret") is not None

    assert run(data_dir, "role", "alice", "secretariat").exit_code == 0
    assert listed(data_dir)[0]["role"] == "secretariat"

    assert run(data_dir, "remove", "alice").stdout == "user alice removed\n"
    assert [r["username"] for r in listed(data_dir)] == ["bob@example.org"]


def test_prompted_password_must_match(data_dir: Path) -> None:
    result = run(
        data_dir,
        "add",
        "alice",
        "--role",
        "facilitator",
        input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0
    assert "do not match" in result.output
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (
            ["add", "alice", "--role", "facilitator", "--password-stdin"],
            "short\n",
            2,
            "at least 10",
        ),
        (
            ["add", "bad name", "--role", "facilitator", "--password-stdin"],
            PASSWORD,
            2,
            "username must be",
        ),
        (["add", "alice", "--role", "admin", "--password-stdin"], PASSWORD, 2, "admin"),
        (["add", "alice", "--password-stdin"], PASSWORD, 2, "--role"),
        (["passwd", "nobody", "--password-stdin"], PASSWORD, 1, "no user nobody"),
        (["disable", "nobody"], None, 1, "no user nobody"),
        (["enable", "nobody"], None, 1, "no user nobody"),
        (["remove", "nobody"], None, 1, "no user nobody"),
        (["role", "nobody", "facilitator"], None, 1, "no user nobody"),
    ],
)
def test_errors(
    data_dir: Path, args: list[str], stdin: str | None, code: int, message: str
) -> None:
    result = run(data_dir, *args, input=stdin)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert PASSWORD not in result.output


def test_duplicate_user(data_dir: Path) -> None:
    assert (
        run(
            data_dir, "add", "alice", "--role", "facilitator", "--password-stdin", input=PASSWORD
        ).exit_code
        == 0
    )
    again = run(
        data_dir, "add", "ALICE", "--role", "secretariat", "--password-stdin", input=PASSWORD
    )
    assert again.exit_code == 1
    assert "user alice already exists" in again.output


def test_empty_list(data_dir: Path) -> None:
    assert listed(data_dir) == []
    assert "No accounts yet" in run(data_dir, "list").output


def test_users_commands_are_documented() -> None:
    text = (REPO / "docs/cli.md").read_text()
    for command in COMMANDS:
        assert f"listarchive {command}" in text, command
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0, command


def open_session(data: Path, name: str, client: str) -> str:
    conn = sqlite3.connect(data / "store.db")
    try:
        return sessions.create(conn, name, now=time.time(), lifetime=3600, client=client)
    finally:
        conn.close()


def live(data: Path, token: str) -> bool:
    conn = sqlite3.connect(data / "store.db")
    try:
        return sessions.lookup(conn, token, now=time.time()) is not None
    finally:
        conn.close()


def test_sessions_and_revoke(data_dir: Path) -> None:
    for name in ("alice", "bob"):
        added = run(
            data_dir, "add", name, "--role", "facilitator", "--password-stdin", input=PASSWORD
        )
        assert added.exit_code == 0, added.output
    assert run(data_dir, "sessions").stdout == "No open web sessions.\n"
    first = open_session(data_dir, "alice", "192.0.2.1 Firefox")
    second = open_session(data_dir, "alice", "192.0.2.2 curl")
    other = open_session(data_dir, "bob", "198.51.100.3 Safari")

    result = run(data_dir, "sessions", "alice", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [sorted(r) for r in rows] == [
        ["client", "created_at", "expires_at", "id", "last_seen", "username"]
    ] * 2
    assert {r["client"] for r in rows} == {"192.0.2.1 Firefox", "192.0.2.2 curl"}
    assert all(str(r["expires_at"]).endswith("+00:00") for r in rows)
    text = run(data_dir, "sessions").stdout
    assert "Safari" in text and "Firefox" in text and first not in text  # never the token
    assert len(json.loads(run(data_dir, "sessions", "--json").stdout)) == 3

    one = next(r["id"] for r in rows if r["client"].endswith("curl"))
    assert run(data_dir, "revoke", "bob", "--session", one).exit_code == 1  # not bob's
    ended = run(data_dir, "revoke", "alice", "--session", one)
    assert ended.stdout == "1 web session of alice ended\n"
    assert live(data_dir, first) and not live(data_dir, second)
    assert run(data_dir, "revoke", "alice").stdout == "1 web session of alice ended\n"
    assert not live(data_dir, first) and live(data_dir, other)
    assert run(data_dir, "revoke", "alice").stdout == "0 web sessions of alice ended\n"
    for args in (["sessions", "nobody"], ["revoke", "nobody"]):
        missing = run(data_dir, *args)
        assert missing.exit_code == 1 and "no user nobody" in missing.output
