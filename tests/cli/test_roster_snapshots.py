"""Roster imports an operator can trust (issue 13): a file with no member in it is refused
instead of becoming an empty current roster, `--dry-run` stores nothing, snapshots are
listed, rolled back and deleted, and a report on a historical archive says its default
window holds no posts instead of "0 posters"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from listarchive.cli import cli
from tests.support.usrp_migration import NEW, usrp_data_dir

ROSTERS = Path(__file__).resolve().parents[1] / "data" / "rosters"
SEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"


@pytest.fixture()
def data(corpus: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return usrp_data_dir(corpus, tmp_path_factory, tmp_path / "data")


def run(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def js(data: Path, *args: str) -> Any:
    result = run(data, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _import(data: Path, name: str, as_of: str, *more: str) -> Any:
    return js(data, "rosters", "import", NEW, str(ROSTERS / name), "--as-of", as_of, *more)


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("0*.txt")), ids=lambda p: p.name[:3])
def test_a_meeting_summary_is_not_a_roster(data: Path, seed: Path) -> None:
    first = _import(data, "usrp-new-Subscribers.csv", "2021-05-01")
    result = run(data, "rosters", "import", NEW, str(seed))
    assert result.exit_code == 2, result.output
    assert "holds no member address" in result.stderr and "nothing imported" in result.stderr
    snapshots = js(data, "rosters", "snapshots", NEW)
    assert [(r["id"], r["members"], r["current"]) for r in snapshots] == [(first["id"], 10, True)]


def test_an_export_of_an_empty_list_is_an_empty_roster(data: Path, tmp_path: Path) -> None:
    _import(data, "usrp-new-Subscribers.csv", "2021-05-01")
    empty = tmp_path / "members.txt"
    empty.write_text("usrp-users@lists.ettus.com has no members\n")
    result = js(data, "rosters", "import", NEW, str(empty), "--as-of", "2021-06-01")
    assert (result["members"], result["removed"]) == (0, 10)


def test_dry_run_stores_nothing(data: Path) -> None:
    first = _import(data, "usrp-new-Subscribers.csv", "2021-05-01")
    dry = _import(data, "usrp-old_list_members.txt", "2021-06-01", "--dry-run")
    assert dry["dry_run"] is True and dry["id"] == 0
    assert (dry["members"], dry["added"], dry["removed"]) == (11, 4, 3)
    text = run(
        data, "rosters", "import", NEW, str(ROSTERS / "usrp-old_list_members.txt"), "--dry-run"
    )
    assert text.exit_code == 0 and "dry run, nothing stored" in text.stdout
    assert [r["id"] for r in js(data, "rosters", "snapshots", NEW)] == [first["id"]]


def test_snapshots_rollback_and_delete(data: Path) -> None:
    a = _import(data, "usrp-new-Subscribers.csv", "2021-05-01")
    b = _import(data, "usrp-old_list_members.txt", "2021-06-01")
    c = _import(data, "usrp-old_list_members-f.txt", "2021-07-01")
    listing = js(data, "rosters", "snapshots", NEW)
    assert [(r["id"], r["current"]) for r in listing] == [
        (c["id"], True),
        (b["id"], False),
        (a["id"], False),
    ]
    text = run(data, "rosters", "snapshots", NEW).stdout
    assert "3 roster snapshots (* current)" in text and "10 members" in text

    back = js(data, "rosters", "rollback", NEW)
    assert back["current"]["id"] == b["id"] and [r["id"] for r in back["deleted"]] == [c["id"]]
    back = js(data, "rosters", "rollback", NEW, "--to", str(a["id"]))
    assert back["current"] == {**back["current"], "id": a["id"], "members": 10, "current": True}
    assert [r["id"] for r in js(data, "rosters", "snapshots", NEW)] == [a["id"]]
    refused = run(data, "rosters", "rollback", NEW)
    assert refused.exit_code == 2 and "nothing to roll back" in refused.stderr
    assert run(data, "rosters", "rollback", NEW, "--to", "999").exit_code == 2

    gone = js(data, "rosters", "delete", str(a["id"]))
    assert gone == {**gone, "current": None}
    assert js(data, "rosters", "snapshots", NEW) == []
    assert run(data, "rosters", "delete", str(a["id"])).exit_code == 2
    assert run(data, "rosters", "snapshots", "nope").exit_code == 2


def test_report_on_a_historical_archive_says_the_window_is_empty(data: Path) -> None:
    roster = ROSTERS / "usrp-new-Subscribers.csv"
    assert run(data, "rosters", "import", NEW, str(roster)).exit_code == 0  # as of today
    report = js(data, "rosters", "report", NEW)
    assert report["posts_since"] == 0 and report["last_post"] == "2021-05-31"
    text = run(data, "rosters", "report", NEW).stdout
    assert f"no posts on {NEW} since {report['since']}" in text
    assert "its last post: 2021-05-31; give --since" in text
    assert "0 posters" not in text
    earlier = run(data, "rosters", "report", NEW, "--since", "2021-01-01").stdout
    assert "posters since 2021-01-01 are not members" in earlier
