"""A web app over a data directory whose store is indexed into a fresh Elasticsearch index
(a random prefix of the test node), deleted afterwards: the Elasticsearch side of the
web tests that run on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from config.settings import load_settings
from search import indexer
from search.factory import open_backend
from store.store import Store
from tests.search.conftest import ES_URL, delete_es_indices
from webui import create_app


def es_env(prefix: str) -> dict[str, str]:
    """The settings environment that points listarchive at the test node under `prefix`."""
    return {
        "LISTARCHIVE_SEARCH_BACKEND": "elasticsearch",
        "LISTARCHIVE_SEARCH_URL": ES_URL,
        "LISTARCHIVE_SEARCH_INDEX": prefix,
    }


@contextmanager
def es_app(data_dir: Path) -> Iterator[Flask]:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    store = Store(data_dir / "store.db")
    backend = open_backend("elasticsearch", data_dir, ES_URL, index_prefix=prefix)
    try:
        indexer.catch_up(store, backend)
    finally:
        backend.close()
        store.close()
    try:
        yield create_app(load_settings(env=es_env(prefix), overrides={"data_dir": data_dir}))
    finally:
        delete_es_indices(prefix)
