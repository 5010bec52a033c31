"""A small store built from real corpus mail: twisted-python's 2018-September and 2018-October
pipermail volumes (49 distinct messages; each volume holds every message twice) synced as a
local mbox list, built once per session.  The numbers the tests assert were checked by reading
those messages' headers by hand (see tests/analytics/test_real_corpus.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.conftest import PIPERMAIL

LIST = "twisted-python"
VOLUMES = ("2018-September.txt.gz", "2018-October.txt.gz")


@pytest.fixture(scope="session")
def twisted_2018(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = PIPERMAIL / "twisted" / LIST
    if not folder.is_dir():
        pytest.fail(f"corpus not found at {folder}")
    path = tmp_path_factory.mktemp("analytics") / "store.db"
    store = Store(path)
    try:
        volumes = [str(folder / name) for name in VOLUMES]
        store.add_list(LIST, "mbox", paths=volumes)
        summary = sync_list(store, LIST, MboxSource(volumes), workers=1)
        assert summary.clean, summary.as_dict()
    finally:
        store.close()
    return path


@pytest.fixture()
def twisted_db(twisted_2018: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{twisted_2018}?mode=ro", uri=True)
    yield conn
    conn.close()
