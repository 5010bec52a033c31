"""Threading in chunks gives the same threads as threading everything at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store


def _placements(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT key, thread_id, parent_key, depth, thread_pos FROM messages ORDER BY key"
        ).fetchall()
    finally:
        conn.close()


def test_chunked_rethread_matches_single_pass(corpus: Path, tmp_path: Path) -> None:
    volumes = sorted((corpus / "pipermail/twisted/twisted-web").glob("2004-*.txt.gz"))
    assert len(volumes) >= 10
    results = []
    for chunk in (37, 1_000_000):
        store = Store(tmp_path / f"chunk{chunk}" / "store.db")
        store.add_list("tw", "mbox", paths=[str(v) for v in volumes])
        sync_list(store, "tw", MboxSource([str(v) for v in volumes]), workers=1)
        # forget the threads, then thread again in chunks of `chunk` new messages
        with store.transaction() as conn:
            conn.execute(
                "UPDATE messages SET thread_id = NULL, parent_key = NULL, depth = NULL, "
                "thread_pos = NULL"
            )
            conn.execute("DELETE FROM msgnodes")
            conn.execute("DELETE FROM threads")
        assert (
            store.conn.execute("SELECT count(*) FROM messages WHERE thread_id IS NULL").fetchone()[
                0
            ]
            > 500
        )
        store.rethread(chunk)
        store.close()
        results.append(_placements(tmp_path / f"chunk{chunk}" / "store.db"))
    assert results[0] == results[1]
    threads = {row[1] for row in results[0]}
    assert 50 < len(threads) < len(results[0])
