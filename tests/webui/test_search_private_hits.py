"""A list made private (`listarchive lists add --private`, `store.list_rows.add_list`) gives
its messages a new change sequence; the search index marks them private only at its next
catch-up (the next sync).  Until then an anonymous reader's search leaves them out all the
same (`search.reader.removed_in_index`, task RV): the page, its JSON twin, the API, the feed
and the exports, on both backends; a facilitator still finds them."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from search import indexer
from search.factory import open_configured
from store.store import Store
from tests.support.webauth import login
from tests.webui.test_removal_walk import LIST, Archive
from tests.webui.test_search_removed_hits import REMOVED
from tests.webui.test_search_removed_twins import _answers, _shows, archive_app

__all__ = ["archive_app"]

READERS = ("/search.json", "/search", "/api/search", "/search.atom", "/search.mbox")


def _make_private(data: Path) -> None:
    """As `listarchive lists add NAME --private` does, no index catch-up after it."""
    store = Store(data / "store.db")
    try:
        info = store.get_list(LIST)
        store.add_list(LIST, info.source, paths=list(info.paths), private=True)
    finally:
        store.close()


def _seen(app: Flask, key: str, *, facilitator: bool) -> list[str]:
    client = app.test_client()
    if facilitator:
        login(client, app, "facilitator")
    shown: list[str] = []
    for path in READERS:
        response = client.get(path, query_string={"q": "quokkasecret"})
        assert response.status_code == 200, (path, response.status_code)
        if key in response.get_data(as_text=True):
            shown.append(path)
    return shown + _shows(_answers(client, "quokkasecret"), key)


def test_a_list_made_private_is_out_of_anonymous_hits_before_the_catch_up(
    archive_app: tuple[Archive, Flask],
) -> None:
    archive, app = archive_app
    key = archive.keys[REMOVED]
    assert _seen(app, key, facilitator=False)  # public: found (the test can fail)
    _make_private(archive.data)
    assert _seen(app, key, facilitator=False) == []
    assert _seen(app, key, facilitator=True)  # private access: still found
    store = Store(archive.data / "store.db")
    backend = open_configured(app.config["LISTARCHIVE_SETTINGS"])
    try:
        indexer.catch_up(store, backend)  # the index learns it: the same answers
    finally:
        backend.close()
        store.close()
    assert _seen(app, key, facilitator=False) == []
    assert _seen(app, key, facilitator=True)
