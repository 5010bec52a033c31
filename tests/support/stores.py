"""Test stores made as a sync makes them: mbox lists synced into a `Store` and the embedded
search index caught up, for the fixtures that build a data directory for the web UI or the
browser tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ingest.run_summary import RunSummary
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from search import indexer
from search.factory import open_backend
from store.store import Store


def index_store(store: Store, data_dir: Path) -> int:
    """Catch the SQLite index in `data_dir` up with `store`; the messages indexed."""
    backend = open_backend("sqlite", data_dir)
    try:
        return indexer.catch_up(store, backend)
    finally:
        backend.close()


def sync_mbox(
    store: Store, name: str, paths: Sequence[str], *, private: bool = False
) -> RunSummary:
    """Add the mbox list `name` of `paths` and sync it (one worker); the run must be clean."""
    store.add_list(name, "mbox", paths=list(paths), private=private)
    summary = sync_list(store, name, MboxSource(list(paths)), workers=1)
    assert summary.clean, summary.as_dict()
    return summary


def kept_figures(data_dir: Path) -> int:
    """How many entries the store's figure cache (`store.figure_cache`) holds."""
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return int(conn.execute("SELECT count(*) FROM figure_cache").fetchone()[0])
    finally:
        conn.close()
