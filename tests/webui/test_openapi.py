"""The OpenAPI description covers every JSON route the app registers."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def _json_routes(app: Flask) -> set[str]:
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if path.endswith(".json") or path.startswith("/api/") or path == "/healthz":
            routes.add(path)
    return routes


def test_openapi_documents_every_json_route(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"]
    documented = set(spec["paths"])
    missing = _json_routes(app) - documented - {"/api/openapi.json"}
    assert missing == set()
    for path, item in spec["paths"].items():
        assert "get" in item, path
        assert "200" in item["get"]["responses"], path
