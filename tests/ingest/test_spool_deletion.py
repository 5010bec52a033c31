"""A stored volume's spool files are deleted by a parser worker, not by the sync process
(`ingest.sync_store.SpoolDeleter`: an unlink on a disk mounted with `discard` waits for the
TRIM), and none is left once the run ends; without a process pool, or after the pool broke,
the sync process deletes them itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest import spool, sync_store
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store


def _volumes(corpus: Path) -> list[str]:
    files = [str(v) for v in sorted((corpus / "pipermail/twisted/twisted-web").glob("2004-*"))]
    files = [f for f in files if f.endswith(".txt.gz")][:6]
    assert len(files) == 6
    return files


def _sync_recording(
    tmp_path: Path, files: list[str], workers: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], int]:
    """Sync `files`; returns the spool files the sync process itself deleted and the number
    of messages stored.  (Forked workers inherit the recorder, but record in their own
    memory: what the list holds was deleted in this process.)"""
    here: list[str] = []
    real = spool.discard

    def recording(path: str | Path) -> None:
        if path and os.getpid() == parent:
            here.append(str(path))
        real(path)

    parent = os.getpid()
    monkeypatch.setattr(spool, "discard", recording)
    monkeypatch.setattr(sync_store, "discard", recording)
    root = tmp_path / "spool"
    root.mkdir()
    store = Store(tmp_path / "store.db")
    try:
        store.add_list("web", "mbox", paths=files)
        summary = sync_list(store, "web", MboxSource(files), workers=workers, spool_root=root)
        assert summary.clean and summary.volumes_fetched == len(files)
        stored = store.message_count()
    finally:
        store.close()
    assert list(root.iterdir()) == []  # nothing left behind either way
    return [p for p in here if p.endswith(".parsed")], stored


def test_the_workers_delete_the_parsed_batches(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, stored = _sync_recording(tmp_path, _volumes(corpus), 2, monkeypatch)
    assert stored > 100
    assert here == []  # the previous code deleted all 6 here, one per stored volume


def test_without_a_pool_the_sync_process_deletes_them(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker parses inline (no pool): each volume's batch file is deleted here."""
    here, stored = _sync_recording(tmp_path, _volumes(corpus), 1, monkeypatch)
    assert stored > 100 and len(here) == 6 == len(set(here))


def test_a_deletion_that_did_not_run_is_done_by_settle(tmp_path: Path) -> None:
    from concurrent.futures import Future

    from ingest.sources.base import Download, Volume

    kept = tmp_path / "x.parsed"
    kept.write_bytes(b"batch")
    job = sync_store.Job(Download(Volume("v", "u"), "fetched"), None, out=str(kept))
    deleter = sync_store.SpoolDeleter()
    cancelled: Future[None] = Future()
    cancelled.cancel()
    deleter.pending.append((cancelled, job))
    deleter.settle()
    assert not kept.exists() and deleter.pending == []
