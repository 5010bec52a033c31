"""Threading and the index catch-up during a sync (every `tail_every` new messages, while
later volumes are parsed) end with the same store and index as all of it after the last
volume (`ingest.sync`, module doc)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from search import indexer
from search.factory import open_backend
from store.store import Store
from tests.support.storedump import dump_store


def _sync(data_dir: Path, files: list[str], tail_every: int) -> tuple[int, int, int]:
    """Sync `files` as one list and catch the index up at the end; returns (mid-run rounds,
    documents indexed during the run, messages stored)."""
    data_dir.mkdir()
    store = Store(data_dir / "store.db")
    backend = open_backend("sqlite", data_dir)
    rounds, indexed = [0], [0]

    def catch_up() -> None:
        rounds[0] += 1
        indexed[0] += indexer.catch_up(store, backend)

    try:
        store.add_list("web", "mbox", paths=files)
        hook: Callable[[], None] | None = catch_up if tail_every else None
        summary = sync_list(
            store, "web", MboxSource(files), workers=2, catch_up=hook, tail_every=tail_every
        )
        assert summary.clean and summary.new_messages == store.message_count()
        indexer.catch_up(store, backend)
        return rounds[0], indexed[0], summary.new_messages
    finally:
        backend.close()
        store.close()


def _index(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("ATTACH DATABASE ? AS x", (str(data_dir / "search-fts.db"),))
        columns = [r[1] for r in conn.execute("PRAGMA x.table_info(docs)") if r[1] != "id"]
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(x, fts, 'row')")
        return {
            "docs": conn.execute(
                f"SELECT {', '.join(columns)} FROM x.docs ORDER BY key"
            ).fetchall(),
            "sizes": conn.execute(
                "SELECT d.key, s.sz FROM x.docs d JOIN x.fts_docsize s ON s.id = d.id ORDER BY 1"
            ).fetchall(),
            "vocab": conn.execute("SELECT term, doc, cnt FROM temp.vocab ORDER BY term").fetchall(),
        }
    finally:
        conn.close()


def test_threading_and_index_during_the_sync_end_as_after_it(corpus: Path, tmp_path: Path) -> None:
    volumes = sorted((corpus / "pipermail/twisted/twisted-web").glob("*.txt.gz"))[:60]
    files = [str(path) for path in volumes]
    rounds, _, stored = _sync(tmp_path / "end", files, tail_every=0)
    assert rounds == 0
    tail_rounds, indexed_during, stored_tail = _sync(tmp_path / "during", files, tail_every=150)
    assert stored_tail == stored > 1000
    assert tail_rounds >= 4  # the work did run while volumes were in flight
    assert 0 < indexed_during < stored
    assert dump_store(tmp_path / "during" / "store.db") == dump_store(tmp_path / "end" / "store.db")
    index = _index(tmp_path / "end")
    assert len(index["docs"]) == stored and index["vocab"]
    assert _index(tmp_path / "during") == index
