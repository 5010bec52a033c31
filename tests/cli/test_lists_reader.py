"""`listarchive lists` only reads (issue 14, CLI start-up): on a store at the current schema,
with nothing declared in a settings file, it opens the store read-only, so a sync holding the
write lock does not hold it up, and it answers exactly as the writer's open does; declarations
to apply still get the writer's open, and a store that needs migrating is migrated once by the
read-only open (`Store`) first."""

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
    try:  # as a store of schema 14, migrations 15 (the body and raw bytes stream) to 18 to run
        conn.executescript(
            "DROP TABLE frame_snapshots;"
            "DROP INDEX messages_sender_name;"
            "DROP TABLE superseded_bodies;"
            "ALTER TABLE messages ADD COLUMN body TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE messages ADD COLUMN raw BLOB NOT NULL DEFAULT x'';"
            "ALTER TABLE messages DROP COLUMN content;"
            "ALTER TABLE messages DROP COLUMN body_bytes;"
            "ALTER TABLE messages DROP COLUMN body_chars;"
            "UPDATE meta SET value = '14' WHERE key = 'schema_version';"
        )
    finally:
        conn.close()
    # its readers need the new schema: a read-only open brings it up to date once, then
    # answers as the writer does
    reader = open_reader(settings)
    assert reader is not None and reader.readonly
    try:
        version = reader.conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        assert version == (str(len(MIGRATIONS)),)
    finally:
        reader.close()
    assert len(MIGRATIONS) == 18, "a newer migration: make this store one of the version before"
