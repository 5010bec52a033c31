"""Per-request access to the store and the search backend (one read connection per request)."""

from __future__ import annotations

from flask import Flask, current_app, g

from config.settings import Settings
from search.base import SearchBackend
from search.factory import open_configured
from store.store import Store


def settings() -> Settings:
    value: Settings = current_app.config["LISTARCHIVE_SETTINGS"]
    return value


def get_store() -> Store:
    if "store" not in g:
        g.store = Store(settings().store_path, readonly=True)
    store: Store = g.store
    return store


def get_search() -> SearchBackend:
    if "search" not in g:
        g.search = open_configured(settings())
    backend: SearchBackend = g.search
    return backend


def _teardown(_exc: BaseException | None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()
    search = g.pop("search", None)
    if search is not None:
        search.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_teardown)
