"""A mid-run index catch-up that raises something other than SearchError (issue 14, review
FX 4) no longer kills the sync partway: it is logged and counted in one warning line of the
run's summary, every message is stored, and the catch-up after the sync indexes them all."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from search import indexer
from search.factory import open_backend
from store.store import Store


def test_a_failing_mid_run_catch_up_is_noted_and_the_sync_goes_on(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    volumes = sorted((corpus / "pipermail/twisted/twisted-web").glob("*.txt.gz"))[:30]
    files = [str(path) for path in volumes]
    store = Store(tmp_path / "store.db")
    backend = open_backend("sqlite", tmp_path)
    real = backend.set_checkpoint
    rounds = [0]

    def failing(seq: int) -> None:  # the backend's update fails in the first two rounds
        if rounds[0] <= 2:
            raise RuntimeError(f"index update broke in round {rounds[0]}")
        real(seq)

    def catch_up() -> None:
        rounds[0] += 1
        indexer.catch_up(store, backend)

    backend.set_checkpoint = failing  # type: ignore[method-assign]
    try:
        store.add_list("web", "mbox", paths=files)
        with caplog.at_level(logging.ERROR, logger="ingest.sync"):
            summary = sync_list(
                store, "web", MboxSource(files), workers=2, catch_up=catch_up, tail_every=100
            )
        assert rounds[0] >= 3  # two rounds failed, later ones ran
        assert summary.clean and not summary.error
        assert summary.new_messages == store.message_count() > 300
        noted = [w for w in summary.warnings if "search index catch-up failed" in w]
        assert noted == [
            "search index catch-up failed 2 time(s) during the sync (tried again after it): "
            "RuntimeError: index update broke in round 2"
        ]
        assert caplog.text.count("search index catch-up failed") == 2
        indexer.catch_up(store, backend)  # the catch-up after the sync
        assert backend.count() == store.message_count()
    finally:
        backend.close()
        store.close()
