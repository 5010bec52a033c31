"""The rows `store.threading` writes for the threads it rebuilt: `msgnodes` (each message id's
thread) and `threads` (a thread's root, subject, dates and size)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.threading import Tree


def write_nodes(conn: sqlite3.Connection, trees: list[Tree], old_threads: set[str]) -> None:
    """`msgnodes` and `threads` as `trees` say, for the threads they replace (`old_threads`):
    only the rows that differ are written or deleted.  A round of threading rebuilds every
    thread it touches, most of them unchanged; deleting and inserting them all again cost
    more than the rest of the round (and `secure_delete` overwrites every deleted row)."""
    nodes: dict[str, str] = {}
    rows: dict[str, tuple[object, ...]] = {}
    old = sorted(old_threads)
    for chunk in (old[i : i + 900] for i in range(0, len(old), 900)):
        marks = ",".join("?" * len(chunk))
        nodes.update(
            conn.execute(
                f"SELECT message_id_norm, thread_id FROM msgnodes WHERE thread_id IN ({marks})",
                chunk,
            )
        )
        for row in conn.execute(
            "SELECT thread_id, root_message_id, root_key, subject, first_date, last_date, "
            f"message_count FROM threads WHERE thread_id IN ({marks})",
            chunk,
        ):
            rows[row[0]] = tuple(row)
    placed: list[tuple[str, str]] = []
    written: list[tuple[object, ...]] = []
    for tree in trees:
        for msgid in tree.msgids:
            if nodes.pop(msgid, None) != tree.thread_id:
                placed.append((msgid, tree.thread_id))
        row = (
            tree.thread_id,
            tree.root_msgid,
            tree.root_key,
            tree.subject,
            tree.first_date,
            tree.last_date,
            len(tree.placements),
        )
        if rows.pop(tree.thread_id, None) != row:
            written.append(row)
    # what is left of the old rows is in no tree any more
    conn.executemany(
        "DELETE FROM msgnodes WHERE message_id_norm = ?", [(m,) for m in sorted(nodes)]
    )
    conn.executemany("DELETE FROM threads WHERE thread_id = ?", [(t,) for t in sorted(rows)])
    conn.executemany(
        "INSERT OR REPLACE INTO msgnodes (message_id_norm, thread_id) VALUES (?, ?)", placed
    )
    conn.executemany(
        "INSERT OR REPLACE INTO threads (thread_id, root_message_id, root_key, subject, "
        "first_date, last_date, message_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
        written,
    )
