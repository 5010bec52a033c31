"""Maildir sources (`--maildir DIR`), a Maildir given as `--mbox`, and sources that yield
nothing where messages were expected."""

from __future__ import annotations

import json
import mailbox
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli
from store.content import raw_bytes

MBOX = "mbox/apache-ponymail-foal/users_ponymail_apache_org_2022-01.mbox"
OLD_NAME = "1000000000.M1P1Q1.archive.example.org"
"""A unique name delivered in September 2001: another volume than today's deliveries."""


def run(data_dir: Path, *args: str, both: bool = False) -> tuple[int, str]:
    """Exit code and standard output (`both`: and standard error)."""
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output if both else result.stdout


def _maildir(corpus: Path, root: Path) -> tuple[mailbox.Maildir, list[bytes]]:
    """A Maildir of real messages: some in new/, some read (cur/, flagged), one delivered
    long ago (its own volume), and a delivery in progress in tmp/ (ignored)."""
    source = mailbox.mbox(corpus / MBOX, create=False)
    try:
        messages = [message.as_bytes(unixfrom=False) for message in source]
    finally:
        source.close()
    box = mailbox.Maildir(root, create=True)
    raws: list[bytes] = []
    for index, raw in enumerate(messages):
        raws.append(raw)
        if index == 0:
            (root / "cur" / f"{OLD_NAME}:2,S").write_bytes(raw)
            continue
        entry = mailbox.MaildirMessage(raw)
        if index % 2:
            entry.set_subdir("cur")
            entry.set_flags("RS")
        box.add(entry)
    (root / "tmp" / "1700000000.M9P9Q9.host").write_bytes(
        b"From: half@example.org\nSubject: not delivered yet\n\n"
    )
    return box, raws


def test_maildir_list_imports_cur_and_new_and_ignores_tmp(
    corpus: Path, tmp_path: Path, data_dir: Path
) -> None:
    root = tmp_path / "Maildir"
    box, raws = _maildir(corpus, root)
    assert {p.parent.name for p in root.glob("*/*")} == {"cur", "new", "tmp"}
    code, out = run(data_dir, "lists", "add", "users", "--maildir", str(root))
    assert code == 0, out
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    summary = json.loads(out)["runs"][0]
    assert summary["new_messages"] == len(raws) == 6
    assert summary["volumes_fetched"] == 2  # 2001-09 and this month
    assert summary["warnings"] == [] and not summary["needs_attention"]
    conn = sqlite3.connect(data_dir / "store.db")
    assert "not delivered yet" not in {r[0] for r in conn.execute("SELECT subject FROM messages")}
    # the bytes are the files' own (flags are in file names, never in the message)
    stored = {
        raw_bytes(r[0], r[1]) for r in conn.execute("SELECT content, body_bytes FROM messages")
    }
    assert stored == {p.read_bytes() for sub in ("cur", "new") for p in (root / sub).iterdir()}
    code, out = run(data_dir, "lists", "--json")
    assert json.loads(out)[0]["source_type"] == "maildir"

    # nothing changed: no file is read again; reading and flagging mail changes nothing
    # (as a mail reader does it: the file is renamed, its bytes untouched; rewriting it through
    # `mailbox` re-serialises some messages, which is a real change)
    fresh = sorted((root / "new").iterdir())[0]
    fresh.rename(root / "cur" / f"{fresh.name.split(':', 1)[0]}:2,FS")
    code, out = run(data_dir, "sync", "--json")
    summary = json.loads(out)["runs"][0]
    assert (summary["volumes_fetched"], summary["volumes_unchanged"]) == (0, 2), summary

    # new mail: only the volume it lands in is read
    box.add(
        b"From: new@example.org\nTo: users@ponymail.apache.org\nSubject: fresh\n"
        b"Message-ID: <fresh@example.org>\nDate: Mon, 3 Jan 2022 10:00:00 +0000\n\nhello\n"
    )
    code, out = run(data_dir, "sync", "--json")
    summary = json.loads(out)["runs"][0]
    assert (summary["volumes_fetched"], summary["volumes_unchanged"]) == (1, 1), summary
    assert summary["new_messages"] == 1


def test_a_maildir_given_as_mbox_is_refused(corpus: Path, tmp_path: Path, data_dir: Path) -> None:
    root = tmp_path / "Maildir"
    _maildir(corpus, root)
    for path in (root, root / "cur", root / "new"):
        code, out = run(data_dir, "lists", "add", "x", "--mbox", str(path), both=True)
        assert code == 2, out
        assert f"is a Maildir: use --maildir {root}" in out
    code, out = run(data_dir, "lists", "add", "x", "--maildir", str(root / "cur"), both=True)
    assert code == 2 and f"use --maildir {root}" in out, out
    code, out = run(data_dir, "lists", "add", "x", "--maildir", str(tmp_path), both=True)
    assert code == 2 and "not a Maildir" in out, out


def test_maildir_declared_in_the_settings_file(
    corpus: Path, tmp_path: Path, data_dir: Path
) -> None:
    root = tmp_path / "Maildir"
    _maildir(corpus, root)
    config = tmp_path / "listarchive.toml"
    config.write_text(f'[lists.users]\nmaildir = "{root}"\n')
    code, out = run(data_dir, "--config", str(config), "sync", "--json")
    assert code == 0, out
    assert json.loads(out)["runs"][0]["new_messages"] == 6


def test_sources_that_yield_nothing_say_so(tmp_path: Path, data_dir: Path) -> None:
    empty = tmp_path / "exports"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an mbox\n")
    assert run(data_dir, "lists", "add", "empty", "--mbox", str(empty))[0] == 0
    blank = tmp_path / "blank.mbox"
    blank.write_bytes(b"\n\n   \n\n")
    assert run(data_dir, "lists", "add", "blank", "--mbox", str(blank))[0] == 0
    maildir = tmp_path / "Empty"
    mailbox.Maildir(maildir, create=True)
    assert run(data_dir, "lists", "add", "nomail", "--maildir", str(maildir))[0] == 0
    code, out = run(data_dir, "sync")
    assert code == 1, out
    warnings = [line.strip() for line in out.splitlines() if "warning:" in line]
    assert warnings == [
        "warning: volume blank.mbox: 7 bytes but no message in them",
        f"warning: {empty} holds no .mbox, .mbox.gz or .eml file",
        f"warning: the Maildir {maildir} holds no message (cur/ and new/)",
    ], out
    code, out = run(data_dir, "sync", "--json")
    runs = {r["list_name"]: r for r in json.loads(out)["runs"]}
    assert {n: r["needs_attention"] for n, r in runs.items()} == {
        "blank": False,  # unchanged: not read again
        "empty": True,
        "nomail": True,
    }
    assert {r["clean"] for r in runs.values()} == {True}  # nothing failed: a warning
