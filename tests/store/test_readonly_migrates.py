"""A read-only open of a store made by an older version migrates it first, through a writing
open, once (issue 14, CL2: the readers' SQL needs the current schema), and says so in the log:
`listarchive lists` and `search` (read-only opens) may then take as long as a migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from store.schema import MIGRATIONS, current_version


def _older(data_dir: Path) -> None:
    """The store as the previous version left it: the last migration not applied."""
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        assert "messages_sender_name" in MIGRATIONS[-1]  # migration 18: one index, undone here
        conn.execute("DROP INDEX messages_sender_name")
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(len(MIGRATIONS) - 1),)
        )
        conn.commit()
    finally:
        conn.close()


def _version(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return current_version(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("command", [["lists", "--json"], ["search", "hello", "--json"]])
def test_a_read_command_migrates_an_older_store_and_says_so(
    tmp_path: Path, data_dir: Path, command: list[str]
) -> None:
    box = tmp_path / "a.mbox"
    box.write_text(
        "From p@example.org Mon Jan  1 00:00:00 2001\nFrom: p@example.org\n"
        "Message-ID: <m1@example.org>\nSubject: hello\n"
        "Date: Mon, 1 Jan 2001 00:00:00 +0000\n\nhello world\n\n"
    )
    for args in (["lists", "add", "a", "--mbox", str(box)], ["sync", "--workers", "1"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
    _older(data_dir)
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *command])
    assert result.exit_code == 0, result.output
    assert _version(data_dir) == len(MIGRATIONS)
    said = f"INFO store.store: {data_dir / 'store.db'}: schema {len(MIGRATIONS) - 1} is older"
    assert said in result.stderr
    again = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *command])
    assert again.exit_code == 0 and "is older" not in again.stderr  # once
