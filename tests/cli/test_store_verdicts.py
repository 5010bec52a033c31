"""`listarchive check` and every command over a store with damaged middle pages or a schema
newer than the program (issue 11, D7 and D8): the text report says what the JSON says, and a
store this program does not know is one plain line and exit 3 from any command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from store import schema
from tests.cli.test_cli import invoke, ok, ok_json
from tests.conftest import PIPERMAIL
from tests.store.test_store_faults import damage_middle_leaves, set_schema_version

VOLUME = PIPERMAIL / "twisted" / "reality" / "2000-January.txt.gz"  # 8 messages


@pytest.fixture()
def synced(data_dir: Path) -> Path:
    ok(data_dir, "lists", "add", "reality", "--mbox", str(VOLUME))
    assert ok_json(data_dir, "sync", "--workers", "1")["indexed"] == 8
    data_dir.chmod(0o700)  # only the store's verdict matters here
    return data_dir


LARGER = [
    PIPERMAIL / "twisted" / "reality" / name
    for name in ("1999-August.txt.gz", "1999-December.txt.gz", "2002-June.txt.gz")
]
"""75 messages: a `messages` table of several leaf pages at the store's page size (16 KiB,
`store.files.PAGE_SIZE`), whose middle ones can be damaged."""


@pytest.fixture()
def synced_larger(data_dir: Path) -> Path:
    ok(data_dir, "lists", "add", "reality", "--mbox", *map(str, LARGER))
    assert ok_json(data_dir, "sync", "--workers", "1")["indexed"] == 75
    data_dir.chmod(0o700)
    return data_dir


def text_report(result: Result) -> tuple[dict[str, str], str]:
    """{check: status} of the text report, and its last line's verdict."""
    lines = result.stdout.strip().splitlines()
    statuses = {}
    for line in lines[:-1]:
        if not line.startswith(" "):  # problems are indented under their check
            status, name, _detail = line.split(None, 2)
            statuses[name] = status
    return statuses, lines[-1].rsplit(": ", 1)[1]


def both_reports(data_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    as_json, as_text = invoke(data_dir, "check", *args, "--json"), invoke(data_dir, "check", *args)
    report = json.loads(as_json.stdout)
    statuses, verdict = text_report(as_text)
    assert as_text.exit_code == as_json.exit_code
    assert verdict == report["status"]
    assert statuses == {name: c["status"] for name, c in report["checks"].items()}
    return as_json.exit_code, report


@pytest.mark.parametrize("quick", [False, True], ids=["integrity_check", "quick_check"])
def test_check_finds_damaged_middle_pages_and_says_so_in_text_and_json(
    synced_larger: Path, quick: bool
) -> None:
    synced = synced_larger
    assert both_reports(synced)[1]["status"] == "ok"
    damage_middle_leaves(synced / "store.db", "messages")
    assert invoke(synced, "lists").exit_code == 0  # the damage is not where most reads go
    code, report = both_reports(synced, *(["--quick"] if quick else []))
    assert code == 3 and report["status"] == "damaged", report
    assert report["checks"]["integrity"]["status"] == "error"
    store = report["checks"]["store"]
    assert store["status"] == "error" and "damaged" in store["detail"], store  # not "ok, opens"
    assert "backup" in store["detail"]


def assert_one_line_exit_3(result: Result, newer: int) -> None:
    assert result.exit_code == 3, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "store.db" in message and "newer" in message
    assert f"version {newer}" in message and f"({len(schema.MIGRATIONS)})" in message


COMMANDS: list[tuple[str, ...]] = [
    ("lists",),
    ("sync", "--workers", "1"),
    ("runs",),
    ("search", "reality"),
    ("users", "list"),
    ("users", "disable", "jane"),
    ("reindex",),
]


def test_a_store_newer_than_the_program_is_one_line_and_exit_3(synced: Path) -> None:
    newer = len(schema.MIGRATIONS) + 1
    set_schema_version(synced / "store.db", newer)
    before = (synced / "store.db").read_bytes()
    for command in COMMANDS:
        assert_one_line_exit_3(invoke(synced, *command), newer)
    code, report = both_reports(synced)
    assert code == 3 and report["status"] == "unusable", report
    assert report["checks"]["schema"]["version"] == newer
    assert f"version {newer}" in report["checks"]["store"]["detail"]
    assert (synced / "store.db").read_bytes() == before  # nothing was written to it
