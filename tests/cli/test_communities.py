"""Communities group lists; search can be scoped to one."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli


def test_communities_from_cli_and_toml(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]
    folder = corpus / "pipermail/twisted"
    for name in ("reality", "divunal-devel", "divunal-author"):
        volumes = [str(p) for p in sorted((folder / name).glob("*.txt.gz"))]
        assert runner.invoke(cli, [*base, "lists", "add", name, "--mbox", *volumes]).exit_code == 0
    assert runner.invoke(cli, [*base, "sync"]).exit_code == 0

    result = runner.invoke(
        cli,
        [
            *base,
            "communities",
            "add",
            "divunal",
            "--lists",
            "divunal-devel,divunal-author",
            "--cutover",
            "2000-01-01",
            "--closed",
            "2000-02-01",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(runner.invoke(cli, [*base, "communities", "--json"]).stdout)
    assert rows == [
        {
            "name": "divunal",
            "lists": ["divunal-author", "divunal-devel"],
            "cutover": "2000-01-01",
            "closed": "2000-02-01",
            # both archives start in June 1999; divunal-author's first post is the earlier
            "old": "divunal-author",
            "new": "divunal-devel",
            "old_new_inferred": True,
        }
    ]
    # declared: --old names one of the two lists, the other is the new one
    result = runner.invoke(
        cli,
        [
            *base,
            "communities",
            "add",
            "divunal",
            "--lists",
            "divunal-devel,divunal-author",
            "--old",
            "divunal-devel",
        ],
    )
    assert result.exit_code == 0, result.output
    row = json.loads(runner.invoke(cli, [*base, "communities", "--json"]).stdout)[0]
    assert (row["old"], row["new"], row["old_new_inferred"]) == (
        "divunal-devel",
        "divunal-author",
        False,
    )
    assert (
        "old divunal-devel -> new divunal-author"
        in runner.invoke(cli, [*base, "communities"]).stdout
    )
    bad = runner.invoke(
        cli, [*base, "communities", "add", "x", "--lists", "reality", "--old", "divunal-devel"]
    )
    assert bad.exit_code == 2 and "is not one of its lists" in bad.output
    bad = runner.invoke(
        cli,
        [
            *base,
            "communities",
            "add",
            "x",
            "--lists",
            "reality,divunal-devel",
            "--old",
            "reality",
            "--new",
            "reality",
        ],
    )
    assert bad.exit_code == 2 and "the same" in bad.output
    bad = runner.invoke(cli, [*base, "communities", "add", "x", "--lists", "nope"])
    assert bad.exit_code == 2 and "unknown list(s): nope" in bad.output
    bad = runner.invoke(
        cli, [*base, "communities", "add", "x", "--lists", "reality", "--cutover", "2020-13-01"]
    )
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output

    def total(*args: str) -> int:
        out = runner.invoke(cli, [*base, "search", "--json", "--limit", "1", *args]).stdout
        return int(json.loads(out)["total"])

    scoped = total("--community", "divunal", "after:1970")
    assert scoped == total("list:divunal-devel OR list:divunal-author after:1970") > 0
    assert scoped < total("after:1970")

    # the same community declared in the TOML file
    config = tmp_path / "la.toml"
    config.write_text(
        f'data_dir = "{data}"\n[communities.twisted-old]\nlists = ["reality"]\n'
        'cutover = "2001-06-01"\n'
    )
    rows = json.loads(runner.invoke(cli, ["--config", str(config), "communities", "--json"]).stdout)
    assert {
        "name": "twisted-old",
        "lists": ["reality"],
        "cutover": "2001-06-01",
        "closed": None,
        "old": None,
        "new": None,
        "old_new_inferred": False,
    } in rows
    # old/new in the TOML file
    config.write_text(
        f'data_dir = "{data}"\n[communities.moved]\nlists = ["reality", "divunal-devel"]\n'
        'old = "reality"\n'
    )
    rows = json.loads(runner.invoke(cli, ["--config", str(config), "communities", "--json"]).stdout)
    moved = next(r for r in rows if r["name"] == "moved")
    assert (moved["old"], moved["new"], moved["old_new_inferred"]) == (
        "reality",
        "divunal-devel",
        False,
    )
    config.write_text(f'data_dir = "{data}"\n[communities.bad]\nlists = ["reality"]\nold = "x"\n')
    bad = runner.invoke(cli, ["--config", str(config), "communities"])
    assert bad.exit_code == 1 and "not one of its lists" in bad.output
