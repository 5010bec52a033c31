"""Threading writes only the `msgnodes` and `threads` rows that change: a round that rebuilds
a thread whose shape is the same leaves its rows alone (issue 14: every round of a sync
deleted and inserted again every row of every thread it touched)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store


def _threading(conn: sqlite3.Connection) -> list[list[tuple[object, ...]]]:
    return [
        conn.execute(
            "SELECT key, thread_id, parent_key, depth, thread_pos, parent_direct FROM messages "
            "ORDER BY key"
        ).fetchall(),
        conn.execute("SELECT * FROM msgnodes ORDER BY message_id_norm").fetchall(),
        conn.execute("SELECT * FROM threads ORDER BY thread_id").fetchall(),
    ]


def _count_writes(conn: sqlite3.Connection) -> None:
    """Temporary triggers counting every row written to or deleted from msgnodes/threads."""
    conn.execute("CREATE TEMP TABLE writes (tab TEXT, op TEXT)")
    for table in ("msgnodes", "threads"):
        for op in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TEMP TRIGGER count_{table}_{op} AFTER {op} ON main.{table} "
                f"BEGIN INSERT INTO writes VALUES ('{table}', '{op}'); END"
            )


def test_a_rebuilt_thread_that_did_not_change_is_not_written_again(
    corpus: Path, tmp_path: Path
) -> None:
    volumes = [
        str(v) for v in sorted((corpus / "pipermail/twisted/twisted-web").glob("2004-*.txt.gz"))
    ]
    store = Store(tmp_path / "store.db")
    store.add_list("tw", "mbox", paths=volumes)
    sync_list(store, "tw", MboxSource(volumes), workers=1)
    conn = store.conn
    before = _threading(conn)
    # the biggest thread's last message forgotten by threading: the next round rebuilds the
    # whole thread, which comes out the same
    (thread,) = conn.execute(
        "SELECT thread_id FROM messages GROUP BY thread_id ORDER BY count(*) DESC, thread_id "
        "LIMIT 1"
    ).fetchone()
    size = conn.execute("SELECT count(*) FROM msgnodes WHERE thread_id = ?", (thread,)).fetchone()
    assert size[0] > 10
    with store.transaction():
        conn.execute(
            "UPDATE messages SET thread_id = NULL WHERE id = "
            "(SELECT max(id) FROM messages WHERE thread_id = ?)",
            (thread,),
        )
    _count_writes(conn)
    assert store.rethread() == 1  # the message placed again (its thread id was gone)
    assert conn.execute("SELECT tab, op, count(*) FROM writes GROUP BY 1, 2").fetchall() == []
    assert _threading(conn) == before
    store.close()
