"""A removal in the web UI never rebuilds the whole search index inside the request (issue 14,
CL2: minutes at a million messages): an index found out of step is left to the next sync or
`listarchive reindex`, and the answer and the log say so."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from search import indexer
from tests.support.webauth import login
from tests.webui.test_removal_walk import _app, _build


def test_a_purge_with_the_index_out_of_step_leaves_the_rebuild_to_the_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    archive = _build(tmp_path)
    key = archive.keys["Quokka marzipan plan"]
    index = sqlite3.connect(archive.data / "search-fts.db")
    with index:  # its indexed text is found nowhere any more (a program that kept no copy)
        index.execute("UPDATE docs SET text_hash = text_hash + 1 WHERE key = ?", (key,))
    index.close()
    rebuilds: list[Any] = []

    def rebuild(*args: Any, **kwargs: Any) -> int:
        rebuilds.append(args)
        return 0

    monkeypatch.setattr(indexer, "rebuild", rebuild)
    app = _app(archive)
    client = app.test_client()
    session = login(client, app, "secretariat")
    made = client.post(
        f"/messages/{key}/remove",
        data={"csrf_token": session.csrf, "purge": "1", "confirm_purge": "1"},
        headers={"Accept": "application/json"},
    )
    assert made.status_code == 200, made.get_data(as_text=True)[:300]
    removal = made.get_json()
    assert removal["purged"] is True
    assert "must be rebuilt" in removal["index_error"]
    assert rebuilds == []
    assert indexer.LEFT_FOR_SYNC in caplog.text
    assert client.get(f"/messages/{key}").status_code == 404
