"""The JSON API through Flask's test client, on a store synced from real corpus mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.support.stores import index_store
from webui import create_app


@pytest.fixture()
def client(corpus: Path, tmp_path: Path) -> FlaskClient:
    data = tmp_path / "data"
    store = Store(data / "store.db")
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted/reality").glob("*.txt.gz"))]
    store.add_list("reality", "mbox", paths=volumes)
    sync_list(store, "reality", MboxSource(volumes), workers=1)
    index_store(store, data)
    store.close()
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    return app.test_client()


def test_search_json(client: FlaskClient) -> None:
    response = client.get("/api/search?q=list:reality&limit=5&facets=1")
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] > 100
    assert len(data["hits"]) == 5
    assert data["facets"]["list"][0] == ["reality", data["total"]]
    assert data["next_cursor"]
    # anonymous: addresses are obfuscated like on the pages
    assert all("@" not in hit["from_addr"] for hit in data["hits"])
    following = client.get(f"/api/search?q=list:reality&limit=5&cursor={data['next_cursor']}")
    assert {h["id"] for h in following.get_json()["hits"]}.isdisjoint(
        {h["id"] for h in data["hits"]}
    )


def test_errors_are_json_without_traceback(client: FlaskClient) -> None:
    bad = client.get('/api/search?q="unbalanced')
    assert bad.status_code == 400
    assert "quote" in bad.get_json()["error"]["message"]
    assert client.get("/api/search").status_code == 400
    assert client.get("/api/search?q=x&sort=nope").status_code == 400
    missing = client.get("/nope", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404
    assert b"Traceback" not in bad.data + missing.data


def test_health(client: FlaskClient) -> None:
    data = client.get("/healthz").get_json()
    assert data["status"] == "ok"
    assert data["messages"] == data["indexed"] > 100
