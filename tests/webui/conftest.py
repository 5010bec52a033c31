"""A store synced from real corpus mail for the web UI tests: the public `reality` list and
`divunal-author` synced as a private list, indexed into the SQLite backend (built once)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from store.store import Store
from tests.conftest import PIPERMAIL
from tests.support.stores import index_store, sync_mbox
from webui import create_app

PUBLIC = "reality"
PRIVATE = "divunal-author"


@pytest.fixture(scope="session")
def webui_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PIPERMAIL.is_dir():
        pytest.fail(f"corpus not found at {PIPERMAIL}")
    data = tmp_path_factory.mktemp("webui") / "data"
    store = Store(data / "store.db")
    try:
        for name, private in ((PUBLIC, False), (PRIVATE, True)):
            volumes = [str(p) for p in sorted((PIPERMAIL / "twisted" / name).glob("*.txt.gz"))]
            sync_mbox(store, name, volumes, private=private)
        index_store(store, data)
    finally:
        store.close()
    return data


@pytest.fixture()
def app(webui_data: Path) -> Flask:
    return create_app(load_settings(env={}, overrides={"data_dir": webui_data}))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def db(webui_data: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the fixture store, for picking test cases."""
    conn = sqlite3.connect(f"file:{webui_data / 'store.db'}?mode=ro", uri=True)
    yield conn
    conn.close()
