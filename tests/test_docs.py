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


def test_quickstart_and_readme_say_how_to_run_the_cli() -> None:
    """`listarchive` is not on PATH after the quickstart: both say how to run it, and the
    quickstart ends with what to do next."""
    script = (REPO / "scripts/quickstart").read_text()
    ending = script[script.rindex("cat <<EOF") :]
    for needed in (".venv/bin/listarchive", ". .venv/bin/activate", "users add", "serve"):
        assert needed in ending
    assert "server" in ending and "stops" in ending  # the list's local archive goes away
    readme = (REPO / "README.md").read_text()
    using = readme[readme.index("## Using it") :][:600]
    assert "not on `PATH`" in using and ". .venv/bin/activate" in using
