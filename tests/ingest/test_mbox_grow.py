"""A large local mbox parsed by every worker (`ingest.chunked`), and a grown mbox read from
where the last sync stopped (`ingest.sources.mbox`)."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ingest import chunked
from ingest.sources import mbox
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store

MONTHS = tuple(f"2013-{m}" for m in ("January", "February", "March", "April", "May", "June"))
SAMPLED = mbox.HEAD_BYTES + mbox.TAIL_BYTES + mbox.SAMPLES * mbox.SAMPLE_BYTES
"""The most one fingerprint reads; a grown file is fingerprinted twice (old end, new end)."""


def corpus_mbox(corpus: Path, path: Path, months: tuple[str, ...] = MONTHS) -> int:
    """Real twisted-python months as one plain mbox; returns its size."""
    with path.open("wb") as out:
        for month in months:
            out.write(
                gzip.decompress(
                    (corpus / f"pipermail/twisted/twisted-python/{month}.txt.gz").read_bytes()
                )
            )
    return path.stat().st_size


def one_message(tag: str) -> bytes:
    return (
        f"From someone@example.org Mon Jun  1 10:00:00 2020\n"
        f"From: Someone <someone@example.org>\nDate: Mon, 1 Jun 2020 10:00:00 +0000\n"
        f"Subject: appended {tag}\nMessage-ID: <appended-{tag}@example.org>\n\n"
        f"A message appended to the file ({tag}).\n\n"
    ).encode()


def sync(data_dir: Path, source: MboxSource, workers: int = 1) -> dict[str, Any]:
    store = Store(data_dir / "store.db")
    try:
        if "big" not in {info.name for info in store.lists()}:
            store.add_list("big", "mbox", paths=[str(p) for p in source.paths])
        return sync_list(store, "big", source, workers=workers).as_dict()
    finally:
        store.close()


def stored(data_dir: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return conn.execute(
            "SELECT m.key, b.origin, b.position FROM messages m "
            "JOIN memberships b ON b.message = m.id ORDER BY m.key"
        ).fetchall()
    finally:
        conn.close()


def test_appended_message_costs_the_bytes_it_grew_by(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "list.mbox"
    size = corpus_mbox(corpus, path)
    first = sync(tmp_path / "data", MboxSource([str(path)]))
    assert first["new_messages"] and not first["volumes_failed"]
    extra = one_message("one")
    with path.open("ab") as handle:
        handle.write(extra)
    source = MboxSource([str(path)])
    again = sync(tmp_path / "data", source)
    assert (again["new_messages"], again["duplicates"], again["volumes_fetched"]) == (1, 0, 1)
    # the new bytes (parsed, and in the new end's fingerprint), the fingerprints' samples
    assert len(extra) <= source.bytes_read <= 2 * len(extra) + 2 * SAMPLED + 16
    assert source.bytes_read < size // 4
    conn = sqlite3.connect(tmp_path / "data" / "store.db")
    position = conn.execute(
        "SELECT b.position FROM memberships b JOIN messages m ON m.id = b.message "
        "WHERE m.subject = 'appended one'"
    ).fetchone()[0]
    conn.close()
    pieces = first["new_messages"] + first["duplicates"] + first["quarantined"]
    assert position == pieces  # numbered on after the messages read before
    # and once more: the state recorded after the grown read resumes too
    with path.open("ab") as handle:
        handle.write(one_message("two"))
    source = MboxSource([str(path)])
    assert sync(tmp_path / "data", source)["new_messages"] == 1
    assert source.bytes_read <= 2 * len(one_message("two")) + 2 * SAMPLED + 16


@pytest.mark.parametrize("where", ["head", "middle-sample", "tail"])
def test_a_changed_earlier_byte_reads_the_file_whole(
    corpus: Path, tmp_path: Path, where: str
) -> None:
    path = tmp_path / "list.mbox"
    size = corpus_mbox(corpus, path)
    sync(tmp_path / "data", MboxSource([str(path)]))
    data = bytearray(path.read_bytes())
    spot = {"head": 100, "middle-sample": size // 33 * 16 + 10, "tail": size - 200}[where]
    data[spot] = ord("#") if data[spot] != ord("#") else ord("%")
    path.write_bytes(bytes(data) + one_message("after-edit"))
    source = MboxSource([str(path)])
    again = sync(tmp_path / "data", source)
    assert source.bytes_read >= size  # read whole
    assert again["new_messages"] >= 1
    assert again["duplicates"] > 100


def test_gzip_files_are_read_whole(corpus: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.mbox"
    corpus_mbox(corpus, plain, MONTHS[:1])
    path = tmp_path / "list.mbox.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    sync(tmp_path / "data", MboxSource([str(path)]))
    path.write_bytes(path.read_bytes() + gzip.compress(one_message("gz")))
    source = MboxSource([str(path)])
    again = sync(tmp_path / "data", source)
    assert again["new_messages"] == 1 and again["duplicates"] > 10
    assert source.bytes_read >= path.stat().st_size


def test_split_volume_stores_what_one_worker_stores(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "list.mbox"
    corpus_mbox(corpus, path)
    with path.open("ab") as handle:  # byte-identical copies, within and across pieces
        head = path.read_bytes()[:20000]
        first = head[: head.index(b"\nFrom ", 10) + 1]
        handle.write(first * 3)
    whole = sync(tmp_path / "whole", MboxSource([str(path)]), workers=2)
    monkeypatch.setattr(chunked, "SPLIT_BYTES", 1)
    monkeypatch.setattr(chunked, "CHUNK_MESSAGES", 7)
    calls: list[int] = []
    parse_chunk = chunked.parse_chunk

    def counting(*args: object) -> chunked.ParsedChunk:
        calls.append(1)
        return parse_chunk(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(chunked, "parse_chunk", counting)
    split = sync(tmp_path / "split", MboxSource([str(path)]), workers=1)  # inline: counted
    assert len(calls) > 10
    keep = ("new_messages", "duplicates", "quarantined", "volumes_fetched", "parser_failures")
    assert {k: split[k] for k in keep} == {k: whole[k] for k in keep}
    assert stored(tmp_path / "split") == stored(tmp_path / "whole")
    monkeypatch.setattr(chunked, "parse_chunk", parse_chunk)  # workers unpickle it by name
    parallel = sync(tmp_path / "parallel", MboxSource([str(path)]), workers=2)
    assert {k: parallel[k] for k in keep} == {k: whole[k] for k in keep}
    assert stored(tmp_path / "parallel") == stored(tmp_path / "whole")
