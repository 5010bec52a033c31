"""The directory's rows (`store.persons.person_rows`) read the messages by identity alone
while nothing is removed (issue 14, task PN: each message's key was read for the removals'
test, 1.01 -> 0.56 s at 1M), and are what the previous query gave, with removals and without."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from store import persons
from tests.analytics.test_bots import MONTHS, _sync
from tests.conftest import PIPERMAIL
from webui.stats_figures import _fields


def _remove(conn: sqlite3.Connection, count: int) -> None:
    conn.execute(
        "INSERT INTO removals (id, kind, target, actor, created_at) "
        "VALUES (1, 'message', 'x', 'test', '2026-01-01')"
    )
    conn.execute(
        "INSERT INTO removal_marks (removal, message_key, message_id_norm, content_hash, "
        "raw_sha256) SELECT 1, key, '', '', '' FROM messages ORDER BY id LIMIT ?",
        (count,),
    )


def test_person_rows_read_no_message_rows_without_removals(tmp_path: Path) -> None:
    folder = PIPERMAIL / "twisted" / "twisted-python"
    volumes = [str(folder / f"2014-{m}.txt.gz") for m in MONTHS.split()[:3]]
    conn = _sync(tmp_path, "twisted-python", volumes)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    rows = persons.person_rows(conn)
    conn.set_trace_callback(None)
    [query] = [s for s in statements if "COUNT(m.id)" in s]
    assert "removal_marks" not in query
    total = sum(r.messages for r in rows)
    assert total == conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] and len(rows) > 20
    _remove(conn, 25)
    statements.clear()
    conn.set_trace_callback(statements.append)
    after = persons.person_rows(conn)
    conn.set_trace_callback(None)
    assert sum(r.messages for r in after) == total - 25
    assert any("removal_marks" in s for s in statements if "COUNT(m.id)" in s)


def test_kept_rows_are_the_rows_fields_in_order(tmp_path: Path) -> None:
    """The directory's rows are kept as their fields' tuples (`stats_figures._fields`, not
    `dataclasses.astuple`'s deep copy: 1.6 s at 1M under a profile); the same tuples."""
    folder = PIPERMAIL / "twisted" / "twisted-python"
    conn = _sync(tmp_path, "twisted-python", [str(folder / "2014-January.txt.gz")])
    rows = persons.person_rows(conn)
    assert rows and [_fields(r) for r in rows] == [dataclasses.astuple(r) for r in rows]
