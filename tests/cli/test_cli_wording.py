"""What a new user meets on the command line (issue 13): a query that starts with `-`,
flanker's grammar warnings kept off the terminal, failure lines that name their URL once, and
counts with the right plural."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from listarchive.cli import cli
from listarchive.cli_args import query_last
from listarchive.cli_text import plural

REPO = Path(__file__).resolve().parents[2]
# a From and a To that flanker's comment lexer cannot read ("syntax error in comment lexer")
MBOX = (
    b"From x@y Mon Jan  1 00:00:00 2018\n"
    b"From: Jane (Doe \\\\ <jane@example.org>\n"
    b'To: "a" (b (c) <list@example.org>\n'
    b"Subject: installing on windows and linux\n"
    b"Message-ID: <1@example.org>\n"
    b"Date: Mon, 1 Jan 2018 00:00:00 +0000\n\n"
    b"the body\n"
)


def run(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


@pytest.fixture()
def synced(tmp_path: Path) -> tuple[Path, Result]:
    (tmp_path / "one.mbox").write_bytes(MBOX)
    data = tmp_path / "data"
    assert run(data, "lists", "add", "t", "--mbox", str(tmp_path / "one.mbox")).exit_code == 0
    result = run(data, "sync", "--workers", "1")
    assert result.exit_code == 0, result.output
    return data, result


def test_a_query_may_start_with_a_dash(synced: tuple[Path, Result]) -> None:
    data, _ = synced
    for args in (
        ["-linux windows"],
        ["--limit", "5", "-linux windows"],
        ["-linux windows", "--limit=5"],
        ["--json", "--", "-linux windows"],
    ):
        result = run(data, "search", *args, *([] if "--json" in args else ["--json"]))
        assert result.exit_code == 0, (args, result.output)
        assert json.loads(result.stdout)["total"] == 0, args
    found = run(data, "search", "-linux body", "--json")
    assert found.exit_code == 0 and json.loads(found.stdout)["total"] == 0
    kept = run(data, "search", "-nothing body")
    assert kept.exit_code == 0 and "1 message matches" in kept.stdout
    only = run(data, "search", "-windows")  # the query language's own answer, not click's
    assert "No such option" not in only.output and "exclusions" in only.output
    assert run(data, "search", "-h").output.startswith("Usage:")


def test_query_last_keeps_options_and_their_values() -> None:
    command = click.Command(
        "c",
        params=[
            click.Argument(["query"]),
            click.Option(["--limit"], type=int),
            click.Option(["--json"], is_flag=True),
        ],
    )
    ctx = click.Context(command)
    assert query_last(command, ctx, ["-a b", "--limit", "5", "--json"]) == [
        "--limit",
        "5",
        "--json",
        "--",
        "-a b",
    ]
    assert query_last(command, ctx, ["plain", "--limit=3"]) == ["plain", "--limit=3"]
    assert query_last(command, ctx, ["--", "--json"]) == ["--", "--json"]


def test_flanker_warnings_stay_off_the_terminal(synced: tuple[Path, Result]) -> None:
    _, result = synced
    assert "lexer" not in result.output and "lexer" not in result.stderr
    data = synced[0]
    again = run(data, "reparse", "--workers", "1")
    assert again.exit_code == 0 and "lexer" not in again.stderr


def test_flanker_warnings_stay_off_the_terminal_with_worker_processes(tmp_path: Path) -> None:
    (tmp_path / "one.mbox").write_bytes(MBOX)
    exe = [sys.executable, "-c", "from listarchive.cli import main; main()"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env = {k: v for k, v in env.items() if not k.startswith("LISTARCHIVE_")}
    base = [*exe, "--data-dir", str(tmp_path / "data")]
    subprocess.run([*base, "lists", "add", "t", "--mbox", "one.mbox"], cwd=tmp_path, env=env)
    done = subprocess.run(
        [*base, "sync", "--workers", "2"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "1 new message," in done.stdout
    assert "lexer" not in done.stderr


def test_a_failure_names_its_url_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = "http://127.0.0.1:9/pipermail/gone/"
    assert run(data, "lists", "add", "gone", "--pipermail", url).exit_code == 0
    result = run(data, "sync", "gone")
    assert result.exit_code == 1
    (failed,) = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert failed.count(url) == 1 and "cannot connect to 127.0.0.1:9" in failed, failed


def test_counts_have_the_right_plural(synced: tuple[Path, Result]) -> None:
    data, first = synced
    assert "1 new message, 0 duplicates" in first.stdout
    assert "search index: 1 message indexed" in first.stdout
    assert "reindexed 1 message\n" in run(data, "reindex").stdout
    assert "1 person\n" in run(data, "persons").stdout
    stats = run(data, "stats").stdout
    assert "1 message, 1 thread started, 1 participant" in stats
    assert "reparse: 1 message checked" in run(data, "reparse", "--workers", "1").stdout
    assert "1 message indexed, up to date" in run(data, "check").stdout
    (hit,) = json.loads(run(data, "search", "windows", "--json").stdout)["hits"]
    assert run(data, "remove", hit["id"], "--reason", "asked").exit_code == 0
    removals = run(data, "removals").stdout
    assert "(1 message, active)" in removals and removals.endswith("\n1 removal\n")


def test_plural() -> None:
    assert [plural(n, "post") for n in (0, 1, 2)] == ["0 posts", "1 post", "2 posts"]
    assert plural(1, "match") == "1 match" and plural(3, "match") == "3 matches"
    assert plural(2, "identity", "identities") == "2 identities"
    assert plural(None, "run") == "0 runs"


def test_flanker_is_quiet_in_a_process_without_logging_config() -> None:
    """A parser worker started by a fork server (the scheduler's) has no logging config of
    the CLI's: flanker's warnings would go to stderr through logging's last resort."""
    code = (
        "from ingest.addresses import parse_address_list\n"
        "values = ['Jane (Doe \\\\\\\\ <jane@example.org>', '\"a\" (b (c) <l@x.org>']\n"
        "print(parse_address_list(values))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTARCHIVE_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "jane@example.org" in done.stdout, done.stderr
    assert done.stderr == ""
