"""The embedded index keeps no copy of the text it indexed (issue 14, store size): a replaced or
deleted document is forgotten with the text read back from the store (`search.fts_texts`), the
bodies a reparse or a purge replaced kept until then (`store.superseded`).  A wrong 'delete'
would leave tokens behind: after each change, the index's terms (with their document and
occurrence counts) and its search answers must be those of an index rebuilt from the store,
reached without a rebuild."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ingest import worker
from ingest.parse import parse_message
from listarchive.cli import cli
from search import indexer
from store import superseded
from store.models import Message

QUERIES = ("alpha", "omega", "plan", "reactor", "quoted", "from:p1@example.org", "list:second")


def run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _message(n: int, reply_to: int | None = None) -> bytes:
    head = f"From: Person {n} <p{n}@example.org>\nMessage-ID: <m{n}@example.org>\n"
    head += f"Date: Mon, 1 Jan 2001 00:0{n}:00 +0000\n"
    if reply_to is None:
        head += "Subject: the plan\n"
        body = f"alpha reactor plan, number{n}\n"
    else:
        head += f"Subject: Re: the plan\nIn-Reply-To: <m{reply_to}@example.org>\n"
        body = f"On Monday, Person {reply_to} wrote:\n> alpha quoted words\n\nalpha again {n}\n"
    return f"{head}\n{body}".encode()


def _mbox(path: Path, numbers: list[int]) -> None:
    path.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n" + _message(n, n - 1 if n else None)
            for n in numbers
        )
    )


def _omega_parser(
    raw: bytes, unixfrom: str = "", max_mime_depth: int = 30, max_deep_parts: int = 10_000
) -> Message:
    """The parser, changed: every body says omega where it said alpha."""
    message = parse_message(raw, unixfrom, max_mime_depth, max_deep_parts)
    return dataclasses.replace(message, body=message.body.replace("alpha", "omega"))


def _terms(data_dir: Path) -> list[tuple[str, int, int]]:
    """Each term of the live FTS5 table with its document and occurrence counts."""
    conn = sqlite3.connect(data_dir / "search-fts.db")
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, row)")
        return [tuple(row) for row in conn.execute("SELECT term, doc, cnt FROM temp.vocab")]
    finally:
        conn.close()


def _answers(data_dir: Path) -> dict[str, object]:
    return {query: json.loads(run(data_dir, "search", query, "--json")) for query in QUERIES}


REBUILDS: list[bool] = []
"""Set while a test's copy is rebuilt on purpose (`_as_rebuilt`)."""
_REBUILD = indexer.rebuild


def _rebuild_refused(*args: Any, **kwargs: Any) -> int:
    if not REBUILDS:
        raise AssertionError("the index was rebuilt: a document's old text was not found")
    return _REBUILD(*args, **kwargs)


def _as_rebuilt(data_dir: Path, scratch: Path) -> None:
    """The index equals one rebuilt from a copy of the data directory; no body is kept."""
    copy = scratch / f"copy{len(list(scratch.iterdir()))}"
    shutil.copytree(data_dir, copy)
    REBUILDS.append(True)
    try:
        run(copy, "reindex")
    finally:
        REBUILDS.clear()
    assert _terms(data_dir) == _terms(copy)
    assert _answers(data_dir) == _answers(copy)
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        assert superseded.count(conn) == 0  # dropped once the index applied the change
    finally:
        conn.close()


def test_changes_leave_the_index_as_a_rebuild_would(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "copies"
    scratch.mkdir()
    _mbox(tmp_path / "plan.mbox", [0, 1, 2])
    run(data_dir, "lists", "add", "plan", "--mbox", str(tmp_path / "plan.mbox"))
    run(data_dir, "sync", "--workers", "1")

    monkeypatch.setattr(indexer, "rebuild", _rebuild_refused)
    # the same message on a second list: its documents are replaced (same text)
    _mbox(tmp_path / "second.mbox", [2, 3])
    run(data_dir, "lists", "add", "second", "--mbox", str(tmp_path / "second.mbox"))
    run(data_dir, "sync", "--workers", "1")
    _as_rebuilt(data_dir, scratch)

    # reparse rewrites every body before the index catches up: the old bodies are kept
    with monkeypatch.context() as patch:
        patch.setattr(worker, "parse_message", _omega_parser)
        report = json.loads(run(data_dir, "reparse", "--workers", "1", "--json"))
    assert report["changed"] == 4 and "body" in report["fields"]
    assert _answers(data_dir)["alpha"] == {"total": 0, "hits": []}
    _as_rebuilt(data_dir, scratch)

    conn = sqlite3.connect(data_dir / "store.db")
    key1, key2, key3 = (
        conn.execute(
            "SELECT key FROM messages WHERE message_id_norm = ?", (f"m{n}@example.org",)
        ).fetchone()[0]
        for n in (1, 2, 3)
    )
    conn.close()
    # removed, then shown again
    run(data_dir, "remove", key1, "--reason", "test")
    _as_rebuilt(data_dir, scratch)
    run(data_dir, "restore", "1")
    _as_rebuilt(data_dir, scratch)
    # purged: the body is blanked before the index forgets the document
    run(data_dir, "remove", key2, "--purge", "--reason", "test")
    _as_rebuilt(data_dir, scratch)
    # a purge while the index is away: caught up by the next sync
    with monkeypatch.context() as patch:
        patch.setattr(indexer, "refresh", lambda *args, **kwargs: 0)
        run(data_dir, "remove", key3, "--purge", "--reason", "test")
    conn = sqlite3.connect(data_dir / "store.db")
    assert superseded.count(conn) == 1
    conn.close()
    run(data_dir, "sync", "--workers", "1")
    _as_rebuilt(data_dir, scratch)


def test_an_index_made_with_other_text_limits_is_rebuilt_not_corrupted(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bodies read back, bounded by a smaller `search.max_indexed_bytes`, are not the ones
    indexed: the hash says so, and catch-up rebuilds the index (as `reindex` would)."""
    scratch = tmp_path / "copies"
    scratch.mkdir()
    _mbox(tmp_path / "plan.mbox", [0, 1, 2])
    run(data_dir, "lists", "add", "plan", "--mbox", str(tmp_path / "plan.mbox"))
    run(data_dir, "sync", "--workers", "1")
    rebuilt: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> int:
        rebuilt.append(1)
        return _REBUILD(*args, **kwargs)

    monkeypatch.setattr(indexer, "rebuild", counted)
    monkeypatch.setenv("LISTARCHIVE_SEARCH_MAX_INDEXED_BYTES", "12")
    _mbox(tmp_path / "second.mbox", [1, 2])  # their documents are replaced
    run(data_dir, "lists", "add", "second", "--mbox", str(tmp_path / "second.mbox"))
    run(data_dir, "sync", "--workers", "1")
    assert rebuilt == [1]
    _as_rebuilt(data_dir, scratch)
