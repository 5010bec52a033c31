"""A tiny test-only blueprint of guarded pages and an app factory for the access tests (and
for anyone testing `require_role` or CSRF on their own pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue

from config.settings import load_settings
from store.store import Store
from webui import create_app
from webui.auth import current_user, require_role

guarded = Blueprint("guarded", __name__)


def _page(what: str) -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    return jsonify({"page": what, "user": user.username, "role": user.role})


@guarded.get("/guarded/facilitator")
@guarded.get("/guarded/facilitator.json", endpoint="facilitator_json")
@guarded.get("/guarded/facilitator.csv", endpoint="facilitator_csv")
@require_role("facilitator")
def facilitator() -> ResponseReturnValue:
    return _page("facilitator")


@guarded.get("/guarded/secretariat")
@require_role("secretariat")
def secretariat() -> ResponseReturnValue:
    return _page("secretariat")


@guarded.route("/guarded/write", methods=["POST", "PUT", "PATCH", "DELETE"])
def write() -> ResponseReturnValue:
    return jsonify({"written": True})


def make_app(data_dir: Path, **overrides: Any) -> Flask:
    if not (data_dir / "store.db").exists():
        Store(data_dir / "store.db").close()
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir, **overrides}))
    app.register_blueprint(guarded)
    return app


@pytest.fixture()
def guard_app(data_dir: Path) -> Flask:
    return make_app(data_dir)


@pytest.fixture()
def guard_client(guard_app: Flask) -> FlaskClient:
    return guard_app.test_client()


def session_cookie(client: FlaskClient, app: Flask) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None
