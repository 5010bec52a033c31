"""One rule for list and community names, checked at every entry point (CLI, settings file,
store), with one clear message; names already stored under the older rule are still read."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from store import communities
from store.naming import InvalidNameError, check_name
from store.store import Store

BAD = ["", "x/../y", "..", ".", ".hidden", "_x", "a b", "a/b", "x\n", "é", "a" * 65, "x.json"]
GOOD = ["twisted-python", "usrp-users", "forum_example.org", "tp", "a", "A1", "a" * 64, "l.2"]
MESSAGE = "use letters, digits, '.', '_' or '-' (at most 64), starting with a letter or digit"


@pytest.fixture
def box(corpus: Path) -> Path:
    return corpus / "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"


def _run(*args: str) -> tuple[int, str]:
    """Exit code and output (stdout and stderr)."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _json(*args: str) -> object:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", GOOD)
def test_the_names_in_use_pass(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", [*BAD, "-x", "x\x00", "%2e%2e", "x.CSV", "x.mbox"])
def test_the_rule_refuses(name: str) -> None:
    with pytest.raises(InvalidNameError, match="is not valid"):
        check_name(name)


@pytest.mark.parametrize("name", BAD)
def test_lists_add_refuses_a_bad_name(name: str, box: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, output = _run("--data-dir", str(data), "lists", "add", name, "--mbox", str(box))
    assert code == 2, output
    assert f"list name {name!r} is not valid" in output
    assert _json("--data-dir", str(data), "lists") == []


def test_lists_add_message_says_the_rule(box: Path, tmp_path: Path) -> None:
    code, output = _run("--data-dir", str(tmp_path), "lists", "add", "x/../y", "--mbox", str(box))
    assert code == 2
    assert f"list name 'x/../y' is not valid: {MESSAGE}" in " ".join(output.split())


def test_lists_add_refuses_a_bad_community_name(box: Path, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "lists", "add", "ok", "--mbox", str(box)]
    code, output = _run(*args, "--community", "../x")
    assert code == 2, output
    assert "community name '../x' is not valid" in output


@pytest.mark.parametrize("name", ["x/../y", "", "all.csv"])
def test_communities_add_refuses_a_bad_name(name: str, box: Path, tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path)]
    assert _run(*base, "lists", "add", "ok", "--mbox", str(box))[0] == 0
    code, output = _run(*base, "communities", "add", name, "--lists", "ok")
    assert code == 2, output
    assert f"community name {name!r} is not valid" in output
    assert _json(*base, "communities") == []


@pytest.mark.parametrize(
    ("table", "what"),
    [
        ('[lists."x/../y"]\nmbox = ["{box}"]\n', "list name 'x/../y'"),
        ('[lists.""]\nmbox = ["{box}"]\n', "list name ''"),
        ('[lists.ok]\nmbox = ["{box}"]\ncommunity = "a b"\n', "community name 'a b'"),
        ('[lists.ok]\nmbox = ["{box}"]\n[communities."../c"]\nlists = ["ok"]\n', "'../c'"),
    ],
)
def test_settings_file_refuses_a_bad_name(table: str, what: str, box: Path, tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n' + table.format(box=box))
    code, output = _run("--config", str(config), "lists", "--json")
    assert code == 1, output
    assert what in output and "is not valid" in output
    assert str(config) in output  # says which file
    assert "Traceback" not in output


def test_store_is_the_last_line_of_defence(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    try:
        for name in ("x/../y", ""):
            with pytest.raises(InvalidNameError, match="is not valid"):
                store.add_list(name, "mbox", paths=["/nonexistent"])
        with pytest.raises(InvalidNameError, match="community name"):
            store.add_list("ok", "mbox", paths=["/nonexistent"], community="a/b")
        store.add_list("ok", "mbox", paths=["/nonexistent"])
        with pytest.raises(communities.CommunityError, match="community name '' is not valid"):
            communities.upsert(store.conn, "", ["ok"])
        assert [info.name for info in store.lists()] == ["ok"]
    finally:
        store.close()


def test_a_name_stored_under_the_old_rule_is_still_read(box: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run("--data-dir", str(data), "lists", "add", "ok", "--mbox", str(box))[0] == 0
    conn = sqlite3.connect(data / "store.db")
    with conn:
        conn.execute("UPDATE lists SET name = 'old name/x' WHERE name = 'ok'")
    conn.close()
    rows = _json("--data-dir", str(data), "lists")
    assert isinstance(rows, list) and [row["name"] for row in rows] == ["old name/x"]
    synced = _json("--data-dir", str(data), "sync", "old name/x")
    assert isinstance(synced, dict) and synced["runs"][0]["new_messages"] == 1
