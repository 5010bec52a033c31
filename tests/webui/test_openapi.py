"""`/api/openapi.json` describes every JSON route the app registers (a new route without
documentation fails here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from webui.openapi import SPEC

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def json_routes(app: Flask) -> set[str]:
    """The app's JSON routes in OpenAPI path form (`/lists/{name}.json`)."""
    routes = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if path.endswith(".json") or path.startswith("/api/") or path == "/healthz":
            routes.add(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path))
    return routes


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(ref: str) -> Any:
    assert ref.startswith("#/")
    node: Any = SPEC
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_json_route_is_documented(app: Flask) -> None:
    routes = json_routes(app)
    assert {"/api/search", "/healthz", "/search.json", "/api/openapi.json"} <= routes
    missing = routes - set(SPEC["paths"])
    assert missing == set(), f"undocumented JSON routes: {sorted(missing)}"
    stale = set(SPEC["paths"]) - routes
    assert stale == set(), f"documented routes the app does not serve: {sorted(stale)}"


def test_spec_is_structurally_valid() -> None:
    assert SPEC["openapi"].startswith("3.1.")
    assert SPEC["info"]["title"] and SPEC["info"]["version"]
    for path, item in SPEC["paths"].items():
        assert path.startswith("/")
        operations = {k: v for k, v in item.items() if k in METHODS}
        assert operations, path
        for operation in operations.values():
            response = operation["responses"]["200"]
            assert response["description"]
            assert "schema" in response["content"]["application/json"]
            declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), path
            for parameter in operation.get("parameters", ()):
                assert parameter["in"] in {"path", "query"} and "schema" in parameter
                assert parameter["required"] is True or parameter["in"] != "path"
    for ref in _refs(SPEC):
        assert _resolve(ref), ref


def test_spec_is_served(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == SPEC
