"""Memory bounded by a batch, not a volume (issue 11 review): downloads are spooled to a
private file (never held as bytes), the parser hands the store bounded batches inside the
volume's one transaction, a volume that failed is not parsed again while unchanged, and a
long From_ line still starts a message."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ingest import sync, worker
from ingest.http import HttpFetcher
from ingest.mboxsplit import split_mbox
from ingest.mboxstream import bytes_chunks, split_stream, volume_text
from ingest.sources.base import Download, Volume
from ingest.sources.pipermail import PipermailSource
from listarchive.cli import cli
from store.records import MESSAGE_COLUMNS, Quarantined, SaveCounts, StoredItem, VolumeState
from store.store import Store
from store.volume_writer import VolumeWriter
from tests.support import bombs
from tests.support.archive_server import ArchiveServer

MIB = 1024 * 1024
_RAW_SIZE = MESSAGE_COLUMNS.index("raw_size")


def _run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


class _Batches:
    """Records what the store is handed at once, through either entry point."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[tuple[int, int]] = []  # (messages, raw bytes) per call
        real_add, real_save = VolumeWriter.add, Store.save_volume
        batches = self

        def add(
            self: VolumeWriter, items: Sequence[StoredItem], bad: Sequence[Quarantined] = ()
        ) -> SaveCounts:
            batches.note(items, bad)
            return real_add(self, items, bad)

        def save_volume(
            self: Store,
            list_id: int,
            state: VolumeState,
            items: Sequence[StoredItem],
            bad: Sequence[Quarantined] = (),
        ) -> SaveCounts:
            batches.note(items, bad)
            return real_save(self, list_id, state, items, bad)

        monkeypatch.setattr(VolumeWriter, "add", add)
        monkeypatch.setattr(Store, "save_volume", save_volume)

    def note(self, items: Sequence[StoredItem], bad: Sequence[Quarantined]) -> None:
        raw = sum(int(i.row[_RAW_SIZE]) for i in items) + sum(len(b.raw) for b in bad)
        self.sizes.append((len(items) + len(bad), raw))


def _distinct(count: int, body: bytes = b"hello\n") -> bytes:
    return b"".join(bombs.message(n, body) for n in range(count))


def test_the_store_is_handed_one_batch_at_a_time(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A volume of many distinct messages reaches the store in batches bounded by count;
    the whole volume is still one transaction with the right totals."""
    batches = _Batches(monkeypatch)
    count = 1123  # two full batches and a part (BATCH_MESSAGES = 500)
    path = tmp_path / "many.mbox"
    path.write_bytes(_distinct(count))
    assert _run(data_dir, "lists", "add", "many", "--mbox", str(path))[0] == 0
    code, out = _run(data_dir, "sync", "--json", "--workers", "2")
    assert code == 0, out
    assert json.loads(out)["runs"][0]["new_messages"] == count
    assert len(batches.sizes) == 3
    assert max(n for n, _raw in batches.sizes) <= worker.BATCH_MESSAGES == 500
    assert sum(n for n, _raw in batches.sizes) == count
    conn = sqlite3.connect(data_dir / "store.db")
    assert conn.execute("SELECT message_count FROM volumes").fetchone() == (count,)


def test_batches_are_bounded_by_raw_bytes(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big distinct messages: a batch holds at most `sync.batch_bytes` (plus the message
    that filled it); duplicates across batches are still recognised in the one transaction."""
    batches = _Batches(monkeypatch)
    body = b"".join(bombs._filler(100 * 1024))  # noqa: SLF001 - 100 KiB of text lines
    volume = _distinct(40, body) + bombs.message(3, body).replace(b"\n\n", b"\nX-Copy: 1\n\n", 1)
    path = tmp_path / "big.mbox"
    path.write_bytes(volume)
    assert _run(data_dir, "lists", "add", "big", "--mbox", str(path))[0] == 0
    env = {"LISTARCHIVE_SYNC_BATCH_BYTES": str(MIB)}
    code, out = _run(data_dir, "sync", "--json", "--workers", "2", env=env)
    assert code == 0, out
    run = json.loads(out)["runs"][0]
    assert (run["new_messages"], run["duplicates"]) == (40, 1)  # same Message-ID, same key
    largest = max(len(bombs.message(n, body)) for n in range(40))
    assert len(batches.sizes) >= 4
    assert all(raw < MIB + largest for _n, raw in batches.sizes)


def _pipermail(server: ArchiveServer, volumes: dict[str, bytes]) -> str:
    return bombs.serve_list(server, "spooled", volumes)


def test_a_download_is_spooled_to_a_private_file_and_deleted(
    archive_server: ArchiveServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _pipermail(archive_server, {"2008-May": bombs.gz(bombs.mbox(1, 2, 3))})
    assert _run(data_dir, "lists", "add", "spooled", "--pipermail", url)[0] == 0
    leftover = data_dir / "tmp" / "sync-999999999-dead"  # a killed sync's directory
    leftover.mkdir(parents=True)
    (leftover / "x.download").write_bytes(b"From old")
    seen: list[tuple[Download, int, bool]] = []
    real = PipermailSource.download

    def download(self: PipermailSource, volume: Volume, previous: VolumeState | None) -> Download:
        found = real(self, volume, previous)
        mode = stat.S_IMODE(os.stat(found.path).st_mode) if found.path else -1
        seen.append((found, mode, os.path.exists(found.path)))
        return found

    monkeypatch.setattr(PipermailSource, "download", download)
    code, out = _run(data_dir, "sync", "--json", "--workers", "2")
    assert code == 0, out
    assert json.loads(out)["runs"][0]["new_messages"] == 3
    [(found, mode, existed)] = seen
    assert found.status == "fetched" and found.data == b"" and found.temporary and existed
    assert mode == 0o600
    spool_dir = Path(found.path).parent
    assert spool_dir.parent == data_dir / "tmp"
    assert not Path(found.path).exists() and not spool_dir.exists()
    assert not leftover.exists()
    assert list((data_dir / "tmp").iterdir()) == []


def test_a_spool_file_is_deleted_when_its_bytes_are_known(
    archive_server: ArchiveServer, tmp_path: Path
) -> None:
    """Unchanged bytes (same sha256, no validators) leave no spool file behind."""
    archive_server.etags = False
    url = _pipermail(archive_server, {"2008-May": bombs.gz(bombs.mbox(1))})
    fetcher = HttpFetcher(retries=0, spool_root=tmp_path)
    try:
        source = PipermailSource(url, fetcher)
        [volume] = source.volumes()
        first = source.download(volume, None)
        assert first.status == "fetched" and first.state is not None
        first.discard()
        again = source.download(volume, first.state)
        assert again.status == "unchanged" and not again.path
        assert list(fetcher.spool.directory.iterdir()) == []
    finally:
        fetcher.close()
    assert [p for p in tmp_path.iterdir() if p.name.startswith("sync-")] == []


def test_a_failed_volume_is_not_parsed_again_while_unchanged(
    archive_server: ArchiveServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = sync.parse_volume

    def counting(kind: str, volume: Volume, *args: Any) -> worker.ParsedVolume:
        parsed.append(volume.name)
        return real(kind, volume, *args)

    monkeypatch.setattr(sync, "parse_volume", counting)
    bomb = bombs.gzip_bomb(6 * MIB)
    url = _pipermail(archive_server, {"2008-April": bomb, "2008-May": bombs.gz(bombs.mbox(1))})
    assert _run(data_dir, "lists", "add", "spooled", "--pipermail", url)[0] == 0
    env = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(2 * MIB), "LISTARCHIVE_SYNC_WORKERS": "1"}
    reason = f"decompresses to more than {2 * MIB} bytes (sync.max_volume_bytes)"
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 1 and json.loads(out)["runs"][0]["failures"][0]["error"] == reason
    assert parsed == ["2008-April", "2008-May"]
    parsed.clear()
    archive_server.requests.clear()
    code, out = _run(data_dir, "sync", "spooled", env=env)
    assert code == 1, out
    failures = [line for line in out.splitlines() if "failed:" in line]
    assert failures == [f"  volume 2008-April failed: unchanged since it failed: {reason}"]
    assert archive_server.requests["/pipermail/spooled/2008-April.txt.gz"] == 1  # 304
    assert archive_server.requests["/pipermail/spooled/2008-April.txt"] == 0
    assert parsed == []
    code, out = _run(data_dir, "runs", "--json")
    assert [run["status"] for run in json.loads(out)["runs"]] == ["partial", "partial"]
    # new bytes are parsed again (and here stored)
    archive_server.overlay["/pipermail/spooled/2008-April.txt.gz"] = bombs.gz(bombs.mbox(2))
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 0, out
    assert parsed == ["2008-April"] and json.loads(out)["runs"][0]["new_messages"] == 1


LONG_FROM = b"From " + b"a" * 20_000 + b"@example.org  Thu May  1 17:51:24 2008\n"


def test_a_long_from_line_starts_a_message() -> None:
    """A From_ line longer than 8 KiB (a long sender) still starts its message, in the
    streaming splitter and in `split_mbox` alike."""
    second = bombs.message(2).replace(bombs.FROM_LINE, LONG_FROM)
    data = bombs.message(1) + second + bombs.message(3)
    text = volume_text(bytes_chunks(data, 4096), "v", 1 << 40)
    pieces = list(split_stream(text, MIB))
    assert [p.raw.split(b"Subject: ")[1][:9] for p in pieces] == [
        b"message 1",
        b"message 2",
        b"message 3",
    ]
    assert pieces[1].unixfrom == LONG_FROM[5:].decode().strip()
    assert [raw for _line, raw in split_mbox(data)] == [p.raw for p in pieces]


def test_a_from_line_longer_than_a_message_may_be_is_body_text() -> None:
    """A `From ` line past `max_message_bytes` is not held whole: it is body text of the
    message it is in, which is then over the limit (quarantined with a bounded prefix)."""
    line = b"From " + b"b" * (3 * MIB) + b"  Thu May  1 17:51:24 2008\n"
    data = bombs.message(1) + line + bombs.message(2)[len(bombs.FROM_LINE) :]
    pieces = list(split_stream(volume_text(bytes_chunks(data), "v", 1 << 40), MIB))
    assert [p.truncated for p in pieces] == [True]
    assert pieces[0].size == len(data) - len(bombs.FROM_LINE)
    assert len(pieces[0].raw) <= 64 * 1024


def test_index_catch_up_pages_are_bounded_by_bytes(tmp_path: Path, data_dir: Path) -> None:
    """The search index reads changed messages in pages of at most `max_bytes` of raw
    messages (at least one), not `sync.index_batch` of them whatever their size; the
    catch-up still indexes every message."""
    body = b"".join(bombs._filler(100 * 1024))  # noqa: SLF001 - 100 KiB of text lines
    path = tmp_path / "big.mbox"
    path.write_bytes(_distinct(30, body))
    assert _run(data_dir, "lists", "add", "big", "--mbox", str(path))[0] == 0
    code, out = _run(data_dir, "sync", "--json", "--workers", "1")
    assert code == 0 and json.loads(out)["indexed"] == 30, out
    store = Store(data_dir / "store.db", readonly=True)
    try:
        page = store.changed_since(0, 2000, max_bytes=MIB)
        assert 5 <= len(page) <= 10
        assert len(store.changed_since(0, 2000, max_bytes=1)) == 1
        assert len(store.changed_since(0, 2000)) == 30
    finally:
        store.close()
