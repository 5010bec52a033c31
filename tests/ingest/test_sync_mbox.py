"""Local mbox lists: duplicates across exports, Message-ID reuse, quarantine."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout


def test_same_mail_from_three_services_stored_once(corpus: Path, data_dir: Path) -> None:
    folder = corpus / "mbox/apache-ponymail"
    files = sorted(str(p) for p in folder.glob("ponymail-dev-1080-*.mbox"))
    assert len(files) == 3
    code, out = run(data_dir, "lists", "add", "ponymail-dev", "--mbox", *files)
    assert code == 0, out
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    summary = json.loads(out)["runs"][0]
    assert summary["new_messages"] == 1
    assert summary["duplicates"] == 2
    conn = sqlite3.connect(data_dir / "store.db")
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1


def test_different_messages_sharing_a_message_id_are_both_kept(
    corpus: Path, data_dir: Path
) -> None:
    folder = corpus / "pathological/fixtures/ponymail-foal"
    files = sorted(str(p) for p in folder.glob("dev.activemq.apache.org-*.eml"))
    code, out = run(data_dir, "lists", "add", "activemq", "--mbox", *files)
    assert code == 0, out
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    assert json.loads(out)["runs"][0]["new_messages"] == 2
    conn = sqlite3.connect(data_dir / "store.db")
    rows = conn.execute("SELECT DISTINCT message_id_norm FROM messages").fetchall()
    assert rows == [("git-pr-262-activemq-artemis@git.apache.org",)]
    assert conn.execute("SELECT count(DISTINCT key) FROM messages").fetchone()[0] == 2


def test_three_exports_of_a_month_deduplicate(corpus: Path, data_dir: Path) -> None:
    folder = corpus / "mbox/apache-ponymail"
    files = sorted(str(p) for p in folder.glob("maven-dev-2017-12-*.mbox.gz"))
    assert run(data_dir, "lists", "add", "maven-dev", "--mbox", *files)[0] == 0
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    summary = json.loads(out)["runs"][0]
    conn = sqlite3.connect(data_dir / "store.db")
    stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    distinct_ids = conn.execute("SELECT count(DISTINCT message_id_norm) FROM messages").fetchone()[
        0
    ]
    # three exports of one month: most messages are seen three times, stored once
    assert summary["duplicates"] > stored
    assert stored - distinct_ids < stored * 0.02


def test_unparseable_message_is_quarantined_not_fatal(tmp_path: Path, data_dir: Path) -> None:
    box = tmp_path / "mixed.mbox"
    # the file starts with a From_ line followed by garbage (a damaged export): there is no
    # previous message to glue it to, so it is quarantined and the rest is stored
    box.write_bytes(
        b"From b@example.org Mon Jan  1 00:00:01 2001\n"
        b"\x00\x00\x00 garbage that is no message\n\n"
        b"From a@example.org Mon Jan  1 00:00:00 2001\n"
        b"From: a@example.org\nSubject: good one\nMessage-ID: <g1@example.org>\n"
        b"Date: Mon, 1 Jan 2001 00:00:00 +0000\n\nhello\n\n"
        b"From c@example.org Mon Jan  1 00:00:02 2001\n"
        b"From: c@example.org\nSubject: good two\nMessage-ID: <g2@example.org>\n"
        b"Date: Mon, 1 Jan 2001 00:00:02 +0000\n\nworld\n"
    )
    assert run(data_dir, "lists", "add", "mixed", "--mbox", str(box))[0] == 0
    code, out = run(data_dir, "sync", "--json")
    summary = json.loads(out)["runs"][0]
    assert summary["new_messages"] == 2
    assert summary["quarantined"] == 1
    code, out = run(data_dir, "quarantine", "--json")
    rows = json.loads(out)
    assert len(rows) == 1 and rows[0]["reason"]
    conn = sqlite3.connect(data_dir / "store.db")
    raw = conn.execute("SELECT raw FROM quarantine").fetchone()[0]
    assert b"garbage that is no message" in raw
