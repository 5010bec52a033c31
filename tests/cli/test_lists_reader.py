"""`listarchive lists` only reads (issue 14, CLI start-up): on a store at the current schema,
with nothing declared in a settings file, it opens the store read-only, so a sync holding the
write lock does not hold it up, and it answers exactly as the writer's open does; a store
that needs migrating, or declarations to apply, still gets the writer's open."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from config.settings import load_settings
from listarchive.cli import cli
from listarchive.cli_common import open_reader
from store.schema import MIGRATIONS


def _invoke(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


def _store_with_a_list(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    mbox = tmp_path / "a.mbox"
    mbox.write_bytes(b"")
    added = _invoke(data_dir, "lists", "add", "local", "--mbox", str(mbox), "--community", "c")
    assert added.exit_code == 0, added.output
    return data_dir


def test_lists_answers_while_a_writer_holds_the_store(tmp_path: Path) -> None:
    data_dir = _store_with_a_list(tmp_path)
    before = _invoke(data_dir, "lists", "--json")
    assert before.exit_code == 0, before.output
    writer = sqlite3.connect(data_dir / "store.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # as a sync storing a volume does
        during = _invoke(data_dir, "lists", "--json")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert during.exit_code == 0, during.output
    rows = json.loads(during.stdout)
    assert rows == json.loads(before.stdout)
    assert [(r["name"], r["source_type"], r["communities"]) for r in rows] == [
        ("local", "mbox", ["c"])
    ]


def test_a_reader_only_where_it_answers_as_the_writer(tmp_path: Path) -> None:
    assert open_reader(load_settings(None, overrides={"data_dir": tmp_path / "new"})) is None
    data_dir = _store_with_a_list(tmp_path)
    settings = load_settings(None, overrides={"data_dir": data_dir})
    reader = open_reader(settings)
    assert reader is not None and reader.readonly
    reader.close()

    declaring = tmp_path / "listarchive.toml"
    declaring.write_text('[lists.other]\nmbox = ["/srv/b.mbox"]\n')
    assert open_reader(load_settings(declaring, overrides={"data_dir": data_dir})) is None

    conn = sqlite3.connect(data_dir / "store.db", isolation_level=None)
    try:  # as a store of the previous release, its last migration still to run
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(len(MIGRATIONS) - 1),)
        )
    finally:
        conn.close()
    assert open_reader(settings) is None
