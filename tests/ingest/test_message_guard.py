"""A message that breaks a per-message step (parse, fingerprint, identity, storing, its index
document) is quarantined or skipped with the reason; the run goes on and ends with a status."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

from click.testing import CliRunner

from ingest.sources.base import Volume
from ingest.worker import parse_volume
from listarchive.cli import cli

UTF7 = "pathological/fixtures/mailman-3.3.10/ascii_in_utf7.eml"
"""Mailman's runners/tests/data fixture: a UTF-7 body whose decoding holds lone surrogates,
which SQLite cannot store (it crashed the whole sync)."""


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    """Exit code and standard output; no traceback anywhere (logs included)."""
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout


def _mbox_with_bad_one(corpus: Path, box: Path) -> None:
    bad = (corpus / UTF7).read_bytes()
    good = [
        b"From: a@example.org\nSubject: good one\nMessage-ID: <g1@example.org>\n"
        b"Date: Mon, 1 Jan 2001 00:00:00 +0000\n\nhello\n",
        b"From: c@example.org\nSubject: good two\nMessage-ID: <g2@example.org>\n"
        b"Date: Mon, 1 Jan 2001 00:00:02 +0000\n\nworld\n",
    ]
    parts = [good[0], bad, good[1]]
    box.write_bytes(
        b"".join(b"From x@example.org Mon Jan  1 00:00:00 2001\n" + p + b"\n" for p in parts)
    )


def test_worker_quarantines_a_message_it_cannot_store(corpus: Path) -> None:
    raw = (corpus / UTF7).read_bytes()
    parsed = parse_volume("mbox", Volume("v", "v"), raw)
    assert parsed.items == []
    [bad] = parsed.quarantined
    assert "UnicodeEncodeError" in bad.reason and "cannot be stored" in bad.reason
    assert bad.raw == raw
    assert parsed.failures == 1


def test_sync_stores_the_good_ones_and_quarantines_the_crasher(
    corpus: Path, tmp_path: Path, data_dir: Path
) -> None:
    box = tmp_path / "mixed.mbox"
    _mbox_with_bad_one(corpus, box)
    assert run(data_dir, "lists", "add", "mixed", "--mbox", str(box))[0] == 0
    code, out = run(data_dir, "sync")
    assert code == 1, out
    warnings = [line for line in out.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "parser failure" in warnings[0], out
    conn = sqlite3.connect(data_dir / "store.db")
    subjects = {r[0] for r in conn.execute("SELECT subject FROM messages")}
    assert subjects == {"good one", "good two"}
    [(reason, raw)] = conn.execute("SELECT reason, raw FROM quarantine").fetchall()
    assert "UnicodeEncodeError" in reason
    assert raw == (corpus / UTF7).read_bytes()
    assert [r[0] for r in conn.execute("SELECT status FROM runs")] == ["ok"]
    code, out = run(data_dir, "quarantine", "--json")
    assert "UnicodeEncodeError" in json.loads(out)[0]["reason"]
    code, out = run(data_dir, "sync", "--json")  # the same bytes: nothing new, exit 0
    assert code == 0, out


def test_a_message_whose_index_document_fails_is_skipped_with_the_reason(
    corpus: Path, tmp_path: Path, data_dir: Path
) -> None:
    box = tmp_path / "good.mbox"
    box.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n"
            + f"From: a{i}@example.org\nSubject: topic {i}\nMessage-ID: <m{i}@example.org>\n"
            f"Date: Mon, 1 Jan 2001 00:00:0{i} +0000\n\nfindme word{i}\n\n".encode()
            for i in range(3)
        )
    )
    assert run(data_dir, "lists", "add", "good", "--mbox", str(box))[0] == 0
    # the store holds the messages, the index does not yet (damaged text in one row, as an
    # older program or a hand edit could leave it: reading it back raises)
    code, out = run(data_dir, "sync")
    assert code == 0, out
    conn = sqlite3.connect(data_dir / "store.db")
    damaged = b"findme\xc3("  # not UTF-8
    conn.execute(
        "UPDATE messages SET content = ?, body_bytes = ?, "
        "seq = seq + 100 WHERE message_id_norm = 'm1@example.org'",
        (zlib.compress(damaged), len(damaged)),
    )
    conn.execute("UPDATE messages SET seq = seq + 100 WHERE message_id_norm != 'm1@example.org'")
    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 100 WHERE key = 'change_seq'")
    conn.commit()
    code, out = run(data_dir, "sync")
    assert code == 1, out
    lines = [line for line in out.splitlines() if "not indexable" in line]
    assert len(lines) == 1, out
    code, out = run(data_dir, "search", "findme", "--json")
    assert code == 0, out
    found = {hit["message_id"] for hit in json.loads(out)["hits"]}
    assert found == {"<m0@example.org>", "<m2@example.org>"}
    code, out = run(data_dir, "check", "--json")
    index = json.loads(out)["checks"]["index"]
    assert index["not_indexable"] == 1, index
    assert index["status"] == "warning", index
    [skip] = index["skipped"]
    assert "decode" in skip["reason"].lower()
