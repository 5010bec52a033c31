"""Logging in from tests: `login(client, app, "facilitator")` creates an account in the app's
store and logs the Flask test client in through the real form (CSRF token included).

    from tests.support.webauth import login

    def test_dashboard_needs_a_facilitator(app, client):
        session = login(client, app, "facilitator")
        assert client.get("/stats/engagement").status_code == 200
        client.post("/somewhere", data={"csrf_token": session.csrf, ...})
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from store import accounts
from store.store import Store

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class WebLogin:
    username: str
    password: str
    role: str
    csrf: str
    """The session's CSRF token after the login: send it as the `csrf_token` form field (or
    the `X-CSRF-Token` header) with every POST."""


def store_path_of(app_or_store_path: Flask | Path) -> Path:
    """The store of a Flask app, of a data directory, or a `store.db` path itself."""
    if isinstance(app_or_store_path, Flask):
        path: Path = app_or_store_path.config["LISTARCHIVE_SETTINGS"].store_path
        return path
    path = Path(app_or_store_path)
    return path / "store.db" if path.is_dir() else path


def create_account(
    app_or_store_path: Flask | Path,
    role: str = "facilitator",
    username: str | None = None,
    password: str = PASSWORD,
) -> str:
    """Create an account (a fresh unique name unless given); returns its username."""
    name = username or f"{role}-{secrets.token_hex(4)}"
    store = Store(store_path_of(app_or_store_path))
    try:
        accounts.create_user(store.conn, name, password, role)
    finally:
        store.close()
    return name


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = _TOKEN.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def session_csrf(client: FlaskClient) -> str:
    """The CSRF token of the client's current session (made if the session has none)."""
    page = client.get("/login")
    return csrf_token_in(page.get_data(as_text=True))


def login(
    client: FlaskClient,
    app_or_store_path: Flask | Path,
    role: str = "facilitator",
    *,
    username: str | None = None,
    password: str = PASSWORD,
    create: bool = True,
) -> WebLogin:
    """Create an account with `role` (unless `create=False`) and log `client` in with it."""
    if create:
        username = create_account(app_or_store_path, role, username, password)
    assert username, "login(create=False) needs a username"
    token = session_csrf(client)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return WebLogin(username, password, role, session_csrf(client))


class FakeClock:
    """A clock the web app reads instead of `time.time()` (for session expiry and login
    delays): `clock = FakeClock.install(app)`, then `clock.advance(seconds)`."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @classmethod
    def install(cls, app: Flask) -> FakeClock:
        clock = cls()
        app.config["LISTARCHIVE_CLOCK"] = clock
        return clock
