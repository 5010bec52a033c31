"""`webui.merge_suggestions.identity_detail` (the persons of /persons/suggestions, their
identities counted) reads the messages by identity alone while nothing is removed (issue 14,
task PN: each message's key was read to test it against the removals, 4.2-4.9 s at 1M), and
answers what the previous query answered, with removals and without."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from store.visibility import not_removed
from tests.analytics.test_bots import MONTHS, _sync
from tests.conftest import PIPERMAIL
from webui.merge_suggestions import day, identity_detail


def _previous(conn: sqlite3.Connection, keys: set[str]) -> dict[str, dict[str, Any]]:
    """The code of 7a3c40a (the removals' test on every message)."""
    found: dict[str, dict[str, Any]] = {}
    marks = ",".join("?" * len(keys))
    query = (
        "SELECT p.key, i.kind, i.value, COUNT(m.id), MIN(m.date), MAX(m.date) "
        "FROM persons p JOIN identities i ON i.person = p.id "
        f"LEFT JOIN messages m ON m.identity = i.id AND {not_removed('m')} "
        f"WHERE p.key IN ({marks}) AND i.kind != 'unknown' "
        "GROUP BY p.key, i.id ORDER BY COUNT(m.id) DESC, i.value"
    )
    for key, kind, value, posts, first, last in conn.execute(query, sorted(keys)):
        person = found.setdefault(
            str(key), {"total": 0, "first": None, "last": None, "identities": []}
        )
        person["identities"].append(
            {"kind": kind, "value": value, "posts": posts, "first": day(first), "last": day(last)}
        )
        person["total"] += int(posts)
        if first is not None and (person["first"] is None or day(first) < person["first"]):
            person["first"] = day(first)
        if last is not None and (person["last"] is None or day(last) > person["last"]):
            person["last"] = day(last)
    return found


def test_identity_detail_reads_no_message_rows_without_removals(tmp_path: Path) -> None:
    folder = PIPERMAIL / "twisted" / "twisted-python"
    conn = _sync(
        tmp_path, "twisted-python", [str(folder / f"2014-{m}.txt.gz") for m in MONTHS.split()[:3]]
    )
    keys = {str(r[0]) for r in conn.execute("SELECT key FROM persons")}
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    found = identity_detail(conn, keys)
    conn.set_trace_callback(None)
    assert found == _previous(conn, keys) and len(found) > 20
    [query] = [s for s in statements if "COUNT(m.id)" in s]
    assert "removal_marks" not in query
    # a removal: its messages are not counted, as before
    busiest = max(found, key=lambda k: found[k]["total"])
    conn.execute(
        "INSERT INTO removals (id, kind, target, actor, created_at) "
        "VALUES (1, 'message', 'x', 'test', '2026-01-01')"
    )
    conn.execute(
        "INSERT INTO removal_marks (removal, message_key, message_id_norm, content_hash, "
        "raw_sha256) SELECT 1, m.key, '', '', '' FROM messages m JOIN identities i "
        "ON i.id = m.identity JOIN persons p ON p.id = i.person WHERE p.key = ? LIMIT 2",
        (busiest,),
    )
    again = identity_detail(conn, keys)
    assert again == _previous(conn, keys)
    assert again[busiest]["total"] == found[busiest]["total"] - 2
