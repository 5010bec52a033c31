"""Opening the embedded index to search takes no write lock when its schema is current: a
search is not kept waiting (or refused after the busy timeout) by a sync writing the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from search.sqlite_fts import SqliteFtsBackend
from tests.search.conftest import DOCS


def test_an_open_does_not_wait_for_a_writer_of_a_current_index(tmp_path: Path) -> None:
    path = tmp_path / "fts.db"
    backend = SqliteFtsBackend(path)
    backend.index(DOCS)
    backend.close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a sync's index catch-up holds it
    try:
        reader = SqliteFtsBackend(path)
        try:
            assert reader.count() == len(DOCS)
        finally:
            reader.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_index_without_its_tables_is_still_made_on_open(tmp_path: Path) -> None:
    path = tmp_path / "fts.db"
    backend = SqliteFtsBackend(path)
    try:
        assert backend.count() == 0
    finally:
        backend.close()
    conn = sqlite3.connect(path)
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"docs", "fts", "meta"} <= names
