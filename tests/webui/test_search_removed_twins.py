"""The other readers of search hits leave a removed message out while the index is out of
step with the store, as the search page and its JSON twin do
(tests/webui/test_search_removed_hits.py, issue 14, task CL3): the API, the Atom feed of a
search and its exports (mbox, CSV), anonymous and facilitator, on both backends (task RV)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.webauth import login
from tests.webui.test_removal_walk import Archive
from tests.webui.test_search_removed_hits import (
    PAGE_SECRETS,
    QUERIES,
    REMOVED,
    _remove_in_the_store_only,
    archive_app,
)

__all__ = ["archive_app"]  # the fixture, on both backends (test_search_removed_hits)

READERS = ("/api/search", "/search.atom", "/search.mbox", "/search.csv")


def _answers(client: FlaskClient, query: str) -> dict[str, str]:
    """Each reader's answer to `query` (those that answer this client)."""
    found: dict[str, str] = {}
    for path in READERS:
        response = client.get(path, query_string={"q": query})
        if response.status_code == 200:
            found[path] = response.get_data(as_text=True)
        else:  # refused to this client (login, a limit): it shows nothing either
            assert response.status_code in (401, 403, 404, 429), (path, response.status_code)
    return found


def _shows(answers: dict[str, str], key: str) -> list[str]:
    return [
        path
        for path, text in answers.items()
        if key in text or any(secret in text for secret in PAGE_SECRETS)
    ]


def test_the_other_readers_of_hits_leave_a_missed_removal_out(
    archive_app: tuple[Archive, Flask],
) -> None:
    archive, app = archive_app
    key = archive.keys[REMOVED]
    anonymous = app.test_client()
    facilitator = app.test_client()
    login(facilitator, app, "facilitator")
    before = {
        name: _answers(client, "quokkasecret")
        for name, client in (("anonymous", anonymous), ("facilitator", facilitator))
    }
    # they showed it before the removal (the test can fail)
    assert _shows(before["anonymous"], key) and _shows(before["facilitator"], key), before
    _remove_in_the_store_only(archive)
    for client in (anonymous, facilitator):
        for query in QUERIES:
            assert _shows(_answers(client, query), key) == [], query
