"""Lists declared in the TOML file appear in the store and sync like CLI-added ones."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli


def test_lists_from_toml_file(corpus: Path, tmp_path: Path) -> None:
    box = corpus / "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
    config = tmp_path / "la.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'[lists.ponymail-dev]\nmbox = ["{box}"]\ncommunity = "ponymail"\n'
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "lists", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["name"] == "ponymail-dev"
    assert row["source"] == [str(box)]
    assert row["community"] == "ponymail"
    assert row["messages"] == 0

    result = runner.invoke(cli, ["--config", str(config), "sync", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["runs"][0]["new_messages"] == 1
    assert (tmp_path / "data" / "store.db").is_file()

    # the default file is config/listarchive.toml in the working directory
    (tmp_path / "config").mkdir()
    config.rename(tmp_path / "config" / "listarchive.toml")
    result = runner.invoke(cli, ["lists", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["messages"] == 1
