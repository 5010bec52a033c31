"""What users touch is documented."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from config.settings import SETTINGS
from listarchive.cli import cli

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    text = (REPO / "docs/configuration.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text]
    assert missing == []


def test_every_command_is_in_the_cli_reference() -> None:
    text = (REPO / "docs/cli.md").read_text()
    commands = [
        "lists",
        "lists add",
        "sync",
        "search",
        "reindex",
        "quarantine",
        "scheduler",
        "runs",
        "communities",
        "communities add",
        "completeness",
        "serve",
        "check",
        "persons",
        "persons show",
        "persons suggestions",
        "persons merge",
        "persons split",
        "persons undo",
        "persons distinct",
        "persons events",
        "stats",
        "audit",
        "rosters",
        "rosters import",
        "rosters snapshots",
        "rosters rollback",
        "rosters delete",
        "rosters report",
        "meetings",
        "meetings import",
        "meetings show",
        "meetings confirm",
        "meetings unmatch",
        "tags",
        "tags add",
        "tags remove",
        "remove",
        "removals",
        "restore",
    ]
    for command in commands:
        assert f"listarchive {command}" in text
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0
