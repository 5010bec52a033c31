"""Session cookie flags, the session key, settings and CSRF protection (issue 7)."""

from __future__ import annotations

import logging
import sqlite3
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from config.settings import ConfigError, load_settings
from listarchive.cli import cli
from store import sessions as session_store
from store.store import Store
from tests.support.webauth import PASSWORD, FakeClock, create_account, login, session_csrf
from tests.webui.guarded import guard_app, guard_client, make_app, session_cookie
from webui.auth import TOUCH_EVERY
from webui.sessions import SECRET_ENV, SECRET_FILE, load_secret_key

__all__ = ["guard_app", "guard_client"]  # fixtures


# -- cookies and the key ---------------------------------------------------------------------


def test_cookie_flags_when_secure(guard_app: Flask, guard_client: FlaskClient) -> None:
    guard_client.get("/login")
    name = create_account(guard_app, "facilitator")
    token = session_csrf(guard_client)
    response = guard_client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
    )
    header = response.headers["Set-Cookie"]
    parts = [p.strip().lower() for p in header.split(";")]
    assert header.startswith("__Host-listarchive=")
    assert "secure" in parts and "httponly" in parts and "samesite=lax" in parts
    assert "path=/" in parts and not any(p.startswith("domain=") for p in parts)
    expires = next(p for p in header.split(";") if p.strip().lower().startswith("expires="))
    lifetime = parsedate_to_datetime(expires.split("=", 1)[1]) - datetime.now(UTC)
    assert 7.9 * 3600 < lifetime.total_seconds() <= 8 * 3600


def test_cookie_without_secure_flag_for_local_http(data_dir: Path) -> None:
    app = make_app(data_dir, **{"web.secure_cookies": False, "web.session_hours": 2})
    header = app.test_client().get("/login").headers["Set-Cookie"]
    parts = [p.strip().lower() for p in header.split(";")]
    assert header.startswith("listarchive_session=")
    assert "secure" not in parts and "httponly" in parts and "samesite=lax" in parts
    assert app.permanent_session_lifetime.total_seconds() == 2 * 3600


def test_secret_key_file_is_private_and_reused(data_dir: Path) -> None:
    first = make_app(data_dir)
    key_file = data_dir / SECRET_FILE
    assert not key_file.exists()  # building the app writes nothing
    first.test_client().get("/search/help")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key and first.secret_key == key_file.read_text().strip()
    second = make_app(data_dir)
    second.test_client().get("/search/help")
    assert second.secret_key == first.secret_key
    # a session made by one app (worker) is valid in the other
    client = first.test_client()
    login(client, first, "facilitator")
    other = second.test_client()
    other.set_cookie(first.config["SESSION_COOKIE_NAME"], session_cookie(client, first) or "")
    assert other.get("/guarded/facilitator").status_code == 200


def test_concurrent_workers_share_one_new_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "fresh"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_secret_key(folder), range(16)))
    assert len(keys) == 1
    assert [p.name for p in folder.iterdir()] == [SECRET_FILE]  # no temporary files left
    (folder / SECRET_FILE).chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="webui.sessions"):
        assert load_secret_key(folder) in keys
    assert "chmod 600" in caplog.text


def test_secret_key_from_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "k" * 40)
    app = make_app(data_dir)
    assert app.secret_key == "k" * 40
    assert not (data_dir / SECRET_FILE).exists()
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(ConfigError, match=SECRET_ENV):
        make_app(data_dir)


def test_settings_are_checked(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="web.session_hours"):
        load_settings(env={}, overrides={"data_dir": data_dir, "web.session_hours": 0})
    with pytest.raises(ConfigError, match="web.secure_cookies"):
        load_settings(env={"LISTARCHIVE_WEB_SECURE_COOKIES": "maybe"})
    assert (
        load_settings(env={"LISTARCHIVE_WEB_SECURE_COOKIES": "false"})["web.secure_cookies"]
        is False
    )
    assert load_settings(env={})["web.secure_cookies"] is True


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_without_csrf_token_are_refused(guard_client: FlaskClient, method: str) -> None:
    response = getattr(guard_client, method)(
        "/guarded/write", headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400


def test_csrf_token_checked(guard_app: Flask, guard_client: FlaskClient) -> None:
    token = session_csrf(guard_client)
    wrong = guard_client.post("/guarded/write", data={"csrf_token": token + "x"})
    assert wrong.status_code == 400
    assert "reload the page" in wrong.get_data(as_text=True)
    assert guard_client.post("/guarded/write", data={"csrf_token": token}).json == {"written": True}
    header = guard_client.delete("/guarded/write", headers={"X-CSRF-Token": token})
    assert header.status_code == 200
    # another session's token is worth nothing here
    other = guard_app.test_client()
    assert other.post("/guarded/write", data={"csrf_token": token}).status_code == 400


def test_login_form_needs_its_csrf_token(guard_app: Flask, guard_client: FlaskClient) -> None:
    name = create_account(guard_app, "facilitator")
    response = guard_client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert guard_client.get("/guarded/facilitator.json").status_code == 401


# -- server-side sessions (issue 11) ---------------------------------------------------------


def replay(app: Flask, cookie: str | None) -> FlaskClient:
    """Another browser holding a copy of the cookie."""
    assert cookie
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return other


def users_cli(data_dir: Path, *args: str, input: str | None = None) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "users", *args], input=input, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output


def test_logout_ends_a_copied_cookie(guard_app: Flask) -> None:
    client = guard_app.test_client()
    web = login(client, guard_app, "facilitator")
    copied = session_cookie(client, guard_app)
    assert replay(guard_app, copied).get("/guarded/facilitator.json").status_code == 200
    assert client.post("/logout", data={"csrf_token": web.csrf}).status_code == 302
    thief = replay(guard_app, copied)
    assert thief.get("/guarded/facilitator.json").status_code == 401
    assert thief.get("/guarded/facilitator").status_code == 302


@pytest.mark.parametrize(
    ("command", "stdin"),
    [
        (["passwd", "alice", "--password-stdin"], "another password 2\n"),
        (["disable", "alice"], None),
        (["remove", "alice"], None),
        (["revoke", "alice"], None),
    ],
)
def test_cli_ends_live_sessions_at_once(
    guard_app: Flask, data_dir: Path, command: list[str], stdin: str | None
) -> None:
    client = guard_app.test_client()
    login(client, guard_app, "facilitator", username="alice")
    copied = session_cookie(client, guard_app)
    assert client.get("/guarded/facilitator.json").status_code == 200
    users_cli(data_dir, *command, input=stdin)
    if command[0] == "disable":
        users_cli(data_dir, "enable", "alice")  # enabling again does not revive old sessions
    assert replay(guard_app, copied).get("/guarded/facilitator.json").status_code == 401
    assert client.get("/guarded/facilitator.json").status_code == 401


def test_other_accounts_sessions_survive(guard_app: Flask, data_dir: Path) -> None:
    alice, bob = guard_app.test_client(), guard_app.test_client()
    login(alice, guard_app, username="alice")
    login(bob, guard_app, username="bob")
    users_cli(data_dir, "revoke", "alice")
    assert alice.get("/guarded/facilitator.json").status_code == 401
    assert bob.get("/guarded/facilitator.json").status_code == 200


def test_session_lasts_session_hours_however_active(guard_app: Flask) -> None:
    clock = FakeClock.install(guard_app)
    client = guard_app.test_client()
    login(client, guard_app, "facilitator")
    copied = session_cookie(client, guard_app)
    for _ in range(7):
        clock.advance(3600)
        assert client.get("/guarded/facilitator").status_code == 200
    clock.advance(3600 - 5)
    assert client.get("/guarded/facilitator.json").status_code == 200
    clock.advance(10)
    assert client.get("/guarded/facilitator.json").status_code == 401
    assert replay(guard_app, copied).get("/guarded/facilitator.json").status_code == 401


def test_session_record_holds_no_usable_token(guard_app: Flask) -> None:
    """The store keeps a digest of the session id: reading the database gives no cookie."""
    client = guard_app.test_client()
    login(client, guard_app, "facilitator")
    with client.session_transaction() as data:
        token = data["sid"]
    store_path = guard_app.config["LISTARCHIVE_SETTINGS"].store_path
    dump = "\n".join(sqlite3.connect(store_path).iterdump())
    assert "web_sessions" in dump and token not in dump


def test_session_records_its_client_and_last_use(guard_app: Flask) -> None:
    clock = FakeClock.install(guard_app)
    client = guard_app.test_client()
    start = int(clock.now)
    login(client, guard_app, "facilitator", username="alice")
    store = Store(guard_app.config["LISTARCHIVE_SETTINGS"].store_path)
    try:

        def record() -> session_store.WebSession:
            (found,) = session_store.live_sessions(store.conn, now=clock.now)
            return found

        assert record().client.startswith("127.0.0.1 ")
        assert (record().created_at, record().last_seen) == (start, start)
        assert record().expires_at == start + 8 * 3600
        clock.advance(60)
        client.get("/guarded/facilitator")
        assert record().last_seen == start  # noted at most every TOUCH_EVERY seconds
        clock.advance(TOUCH_EVERY)
        client.get("/guarded/facilitator")
        assert record().last_seen == start + 60 + TOUCH_EVERY
    finally:
        store.close()
