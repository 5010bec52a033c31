"""Per-request access to the store and the search backend (one read connection per request;
a write connection only for the requests that write, such as account pages)."""

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


def get_writable_store() -> Store:
    """A writable store connection for this request (opened on first use, closed at teardown).
    Reading pages use `get_store()`; SQLite has one writer, so keep writes short."""
    if "writable_store" not in g:
        g.writable_store = Store(settings().store_path, create=False)  # sync creates it
    store: Store = g.writable_store
    return store


def get_search() -> SearchBackend:
    if "search" not in g:
        g.search = open_configured(settings())
    backend: SearchBackend = g.search
    return backend


def _teardown(_exc: BaseException | None) -> None:
    for name in ("store", "writable_store"):
        store = g.pop(name, None)
        if store is not None:
            store.close()
    search = g.pop("search", None)
    if search is not None:
        search.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_teardown)
