"""`listarchive reparse`: the stored raw bytes parsed again with the current parser."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest import worker
from ingest.parse import parse_message
from listarchive.cli import cli
from store.content import body_text
from store.models import Message

UTF7 = "pathological/fixtures/mailman-3.3.10/ascii_in_utf7.eml"


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout


def _message(n: int, reply_to: int | None = None) -> bytes:
    head = f"From: Person {n} <p{n}@example.org>\nMessage-ID: <m{n}@example.org>\n"
    head += f"Date: Mon, 1 Jan 2001 00:0{n}:00 +0000\n"
    if reply_to is None:
        head += "Subject: the plan\n"
    else:
        head += f"Subject: Re: the plan\nIn-Reply-To: <m{reply_to}@example.org>\n"
    return f"{head}\nsomething about the plan, number{n}\n".encode()


def _fixed_parser(
    raw: bytes, unixfrom: str = "", max_mime_depth: int = 30, max_deep_parts: int = 10_000
) -> Message:
    """The parser, improved: lone surrogates of a broken UTF-7 body become U+FFFD."""
    message = parse_message(raw, unixfrom, max_mime_depth, max_deep_parts)

    def clean(text: str) -> str:
        return text.encode("utf-8", "replace").decode("utf-8")

    return dataclasses.replace(message, body=clean(message.body))  # its parts derive from it


def _rows(data_dir: Path) -> dict[str, tuple[object, ...]]:
    conn = sqlite3.connect(data_dir / "store.db")
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT message_id_norm, key, subject, from_addr, thread_id, parent_key, identity "
            "FROM messages"
        )
    }


def _hits(data_dir: Path, query: str) -> set[str]:
    code, out = run(data_dir, "search", query, "--json")
    assert code == 0, out
    return {hit["message_id"] for hit in json.loads(out)["hits"]}


def test_reparse_repairs_fields_threads_identities_and_index(
    corpus: Path, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = tmp_path / "plan.mbox"
    pieces = [_message(0), _message(1, 0), _message(2, 1), (corpus / UTF7).read_bytes()]
    box.write_bytes(
        b"".join(b"From x@example.org Mon Jan  1 00:00:00 2001\n" + p + b"\n" for p in pieces)
    )
    assert run(data_dir, "lists", "add", "plan", "--mbox", str(box))[0] == 0
    assert run(data_dir, "sync", "--workers", "1")[0] == 1  # the UTF-7 one is quarantined
    before = _rows(data_dir)
    assert set(before) == {"m0@example.org", "m1@example.org", "m2@example.org"}
    # an older, worse parser stored m1 with a garbled subject and sender and no reference
    conn = sqlite3.connect(data_dir / "store.db")
    conn.execute(
        "UPDATE messages SET subject = 'garbled', subject_norm = 'garbled', "
        "from_addr = 'wrong@example.org', from_name = 'Wrong', in_reply_to = '[]', "
        "thread_id = NULL, identity = (SELECT identity FROM messages WHERE "
        "message_id_norm = 'm0@example.org') WHERE message_id_norm = 'm1@example.org'"
    )
    conn.commit()
    assert run(data_dir, "sync", "--workers", "1")[0] == 0  # rethreads m1 as it is now
    broken = _rows(data_dir)
    assert broken["m1@example.org"][3] != before["m1@example.org"][3]  # a thread of its own
    assert _hits(data_dir, "garbled") == {"<m1@example.org>"}

    monkeypatch.setattr(worker, "parse_message", _fixed_parser)
    code, out = run(data_dir, "reparse", "--workers", "1", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["checked"] == 3
    assert report["changed"] == 1
    assert {"subject", "from_addr", "from_name", "in_reply_to"} <= set(report["fields"])
    assert report["identities_changed"] == 1
    assert report["threads_rebuilt"] >= 1
    assert report["keys_kept"] == [] and report["now_failing"] == []
    assert report["quarantine"] == {"checked": 1, "stored": 1, "duplicates": 0, "still_failing": 0}

    after = _rows(data_dir)
    for msgid, row in before.items():
        assert after[msgid] == row, msgid  # key, fields, thread, parent, identity: as first
    assert _hits(data_dir, "garbled") == set()
    assert "<m1@example.org>" in _hits(data_dir, "number1")
    conn = sqlite3.connect(data_dir / "store.db")
    assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    [(stream, body_bytes, lists)] = conn.execute(
        "SELECT m.content, m.body_bytes, count(ms.list) FROM messages m "
        "JOIN memberships ms ON ms.message = m.id WHERE m.from_addr = 'user@example.com'"
    ).fetchall()
    body = body_text(stream, body_bytes)
    assert "Can i haz wiki write permissions" in body and lists == 1

    code, out = run(data_dir, "reparse", "--workers", "1", "--json")  # idempotent
    report = json.loads(out)
    assert (report["checked"], report["changed"], report["quarantine"]["checked"]) == (4, 0, 0)
    code, out = run(data_dir, "reparse", "plan", "--workers", "1")
    assert code == 0 and "4 messages checked, 0 changed" in out, out


def test_reparse_dry_run_writes_nothing(tmp_path: Path, data_dir: Path) -> None:
    box = tmp_path / "plan.mbox"
    box.write_bytes(b"From x@example.org Mon Jan  1 00:00:00 2001\n" + _message(0))
    assert run(data_dir, "lists", "add", "plan", "--mbox", str(box))[0] == 0
    assert run(data_dir, "sync", "--workers", "1")[0] == 0
    conn = sqlite3.connect(data_dir / "store.db")
    conn.execute("UPDATE messages SET subject = 'garbled'")
    conn.commit()
    code, out = run(data_dir, "reparse", "--dry-run", "--workers", "1", "--json")
    assert json.loads(out)["changed"] == 1
    assert conn.execute("SELECT subject FROM messages").fetchone()[0] == "garbled"
    code, out = run(data_dir, "reparse", "nosuchlist")
    assert code == 2


def test_reparse_keeps_a_removed_message_removed(tmp_path: Path, data_dir: Path) -> None:
    box = tmp_path / "plan.mbox"
    box.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n" + _message(n, n - 1 if n else None)
            for n in range(2)
        )
    )
    assert run(data_dir, "lists", "add", "plan", "--mbox", str(box))[0] == 0
    assert run(data_dir, "sync", "--workers", "1")[0] == 0
    key = _rows(data_dir)["m1@example.org"][0]
    assert run(data_dir, "remove", str(key), "--reason", "personal data")[0] == 0
    conn = sqlite3.connect(data_dir / "store.db")
    conn.execute("UPDATE messages SET subject = 'garbled' WHERE key = ?", (key,))
    conn.commit()
    code, out = run(data_dir, "reparse", "--workers", "1", "--json")
    assert code == 0, out
    assert json.loads(out)["checked"] == 1  # the removed message is not touched
    assert conn.execute("SELECT subject FROM messages WHERE key = ?", (key,)).fetchone()[0] == (
        "garbled"
    )
    assert _hits(data_dir, "number1") == set()
    assert _hits(data_dir, "number0") == {"<m0@example.org>"}
