"""A reparse keeps the bodies it replaces for the embedded index only (`store.superseded`):
Elasticsearch forgets a document by its id, so with it a reparse of every message kept every
body in the store for nothing (~1 GB at a million messages)."""

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
from store import superseded
from store.models import Message


def _omega(
    raw: bytes, unixfrom: str = "", max_mime_depth: int = 30, max_deep_parts: int = 10_000
) -> Message:
    message = parse_message(raw, unixfrom, max_mime_depth, max_deep_parts)
    return dataclasses.replace(message, body=message.body.replace("alpha", "omega"))


def _mbox(path: Path) -> None:
    path.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n"
            + f"From: p{n}@example.org\nMessage-ID: <m{n}@example.org>\nSubject: topic {n}\n"
            f"Date: Mon, 1 Jan 2001 00:0{n}:00 +0000\n\nalpha words {n}\n\n".encode()
            for n in range(3)
        )
    )


def _kept(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return superseded.count(conn)
    finally:
        conn.close()


@pytest.mark.parametrize(("backend", "kept"), [("sqlite", 3), ("elasticsearch", 0)])
def test_a_reparse_keeps_replaced_bodies_for_the_embedded_index_only(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, backend: str, kept: int
) -> None:
    from listarchive import searching

    box = tmp_path / "a.mbox"
    _mbox(box)
    runner = CliRunner()
    for args in (["lists", "add", "a", "--mbox", str(box)], ["sync", "--workers", "1"]):
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
    monkeypatch.setenv("LISTARCHIVE_SEARCH_BACKEND", backend)
    monkeypatch.setattr(searching, "update_index", lambda *args: (0, "the index is away"))
    monkeypatch.setattr(worker, "parse_message", _omega)
    result = runner.invoke(
        cli, ["--data-dir", str(data_dir), "reparse", "--workers", "1", "--json"]
    )
    report = json.loads(result.stdout)
    assert report["changed"] == 3 and "body" in report["fields"]
    assert _kept(data_dir) == kept  # the index has not caught up yet
