"""Logging in, sessions and role checks (issue 7), through the real app with a tiny
test-only blueprint of guarded pages (tests/webui/guarded.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from store import accounts
from store.store import Store
from tests.support.webauth import (
    PASSWORD,
    FakeClock,
    create_account,
    csrf_token_in,
    login,
    session_csrf,
)
from tests.webui.guarded import guard_app, guard_client, make_app, session_cookie
from webui.auth import LOGIN_FAILED, require_role, safe_next

__all__ = ["guard_app", "guard_client"]  # fixtures


# -- login and logout ------------------------------------------------------------------------


def test_login_page_and_logout_flow(guard_app: Flask, guard_client: FlaskClient) -> None:
    name = create_account(guard_app, "facilitator", "alice")
    page = guard_client.get("/login?next=/guarded/facilitator")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="next" value="/guarded/facilitator"' in html
    assert page.headers["Cache-Control"] == "no-store"
    token = csrf_token_in(html)

    response = guard_client.post(
        "/login",
        data={
            "username": name,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/guarded/facilitator",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/guarded/facilitator"
    answer = guard_client.get("/guarded/facilitator")
    assert answer.status_code == 200
    assert answer.json == {"page": "facilitator", "user": "alice", "role": "facilitator"}
    assert answer.headers["Cache-Control"] == "private, no-store"

    home = guard_client.get("/search/help").get_data(as_text=True)
    assert "alice (facilitator)" in home
    assert 'action="/logout"' in home and "Log in</a>" not in home

    out = guard_client.post("/logout", data={"csrf_token": csrf_token_in(home)})
    assert out.status_code == 302
    assert session_cookie(guard_client, guard_app) is None  # the cookie is deleted
    again = guard_client.get("/guarded/facilitator")
    assert again.status_code == 302
    assert "Log in</a>" in guard_client.get("/search/help").get_data(as_text=True)


def test_anonymous_pages_set_no_cookie(guard_app: Flask, guard_client: FlaskClient) -> None:
    html = guard_client.get("/search/help").get_data(as_text=True)
    assert 'href="/login?next=/search/help"' in html
    assert 'href="/stats"' in html
    assert session_cookie(guard_client, guard_app) is None


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong password!"), ("nobody", PASSWORD), ("bad name!", PASSWORD)],
)
def test_failed_login_is_generic_and_logged_without_password(
    guard_app: Flask,
    guard_client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    username: str,
    password: str,
) -> None:
    create_account(guard_app, "facilitator", "alice")
    token = session_csrf(guard_client)
    with caplog.at_level(logging.INFO, logger="webui.auth"):
        response = guard_client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert LOGIN_FAILED in html and 'id="login-error"' in html
    assert guard_client.get("/guarded/facilitator.json").status_code == 401
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "failed login" in warnings[0].getMessage()
    assert password not in caplog.text


def test_disabled_account_cannot_log_in(guard_app: Flask, guard_client: FlaskClient) -> None:
    name = create_account(guard_app, "secretariat")
    store = Store(guard_app.config["LISTARCHIVE_SETTINGS"].store_path)
    try:
        accounts.set_disabled(store.conn, name, True)
    finally:
        store.close()
    token = session_csrf(guard_client)
    response = guard_client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 401
    assert LOGIN_FAILED in response.get_data(as_text=True)
    assert guard_client.get("/guarded/facilitator.json").status_code == 401


def test_open_session_ends_when_account_changes(guard_app: Flask) -> None:
    store_path = guard_app.config["LISTARCHIVE_SETTINGS"].store_path
    for change in ("disable", "remove", "passwd"):
        client = guard_app.test_client()
        session = login(client, guard_app, "facilitator")
        assert client.get("/guarded/facilitator").status_code == 200
        store = Store(store_path)
        try:
            if change == "disable":
                accounts.set_disabled(store.conn, session.username, True)
            elif change == "remove":
                accounts.remove_user(store.conn, session.username)
            else:
                accounts.set_password(store.conn, session.username, "another password 2")
        finally:
            store.close()
        assert client.get("/guarded/facilitator").status_code == 302, change
        assert client.get("/guarded/facilitator.json").status_code == 401, change


def test_session_is_renewed_at_login(guard_app: Flask, guard_client: FlaskClient) -> None:
    """Session fixation: the cookie (and the CSRF token in it) changes when logging in."""
    token_before = session_csrf(guard_client)
    cookie_before = session_cookie(guard_client, guard_app)
    assert cookie_before
    session = login(guard_client, guard_app, "facilitator")
    cookie_after = session_cookie(guard_client, guard_app)
    assert cookie_after and cookie_after != cookie_before
    assert session.csrf != token_before
    with guard_client.session_transaction() as data:
        assert set(data) - {"_permanent"} == {"csrf", "sid"}  # a token, nothing about the account
        assert data.permanent


@pytest.mark.parametrize("next_path", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(
    guard_app: Flask, guard_client: FlaskClient, next_path: str
) -> None:
    name = create_account(guard_app, "facilitator")
    token = session_csrf(guard_client)
    response = guard_client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token, "next": next_path},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_safe_next() -> None:
    assert safe_next("/stats?list=a&b=1") == "/stats?list=a&b=1"
    assert safe_next("/lists/x/") == "/lists/x/"
    for bad in (
        None,
        "",
        "stats",
        "//x.example",
        "/\\x.example",
        "javascript:alert(1)",
        "http://x.example/",
        "/a\nb",
        "\\\\x.example",
    ):
        assert safe_next(bad) == "/"


def test_login_page_escapes_next(guard_client: FlaskClient) -> None:
    html = guard_client.get('/login?next=/"><script>x()</script>').get_data(as_text=True)
    assert "<script>x()" not in html
    assert "&lt;script&gt;" in html or "&#34;&gt;" in html


# -- require_role ----------------------------------------------------------------------------


def test_anonymous_html_is_sent_to_login(guard_client: FlaskClient) -> None:
    response = guard_client.get("/guarded/facilitator?year=2003")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/guarded/facilitator?year%3D2003"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/guarded/facilitator.json", {}),
        ("/guarded/facilitator.csv", {}),
        ("/guarded/facilitator", {"Accept": "application/json"}),
    ],
)
def test_anonymous_data_gets_401(
    guard_client: FlaskClient, path: str, headers: dict[str, str]
) -> None:
    response = guard_client.get(path, headers=headers)
    assert response.status_code == 401
    if not path.endswith(".csv"):
        assert response.json == {"error": {"status": 401, "message": "Log in to see this page."}}


def test_roles(guard_app: Flask) -> None:
    facilitator_client = guard_app.test_client()
    login(facilitator_client, guard_app, "facilitator")
    assert facilitator_client.get("/guarded/facilitator").status_code == 200
    refused = facilitator_client.get("/guarded/secretariat")
    assert refused.status_code == 403
    assert "may not see this page" in refused.get_data(as_text=True)

    secretariat_client = guard_app.test_client()
    login(secretariat_client, guard_app, "secretariat")
    assert secretariat_client.get("/guarded/secretariat").status_code == 200
    assert secretariat_client.get("/guarded/facilitator").status_code == 200
    answer = secretariat_client.get("/guarded/facilitator.json").get_json()
    assert answer["role"] == "secretariat"


def test_require_role_rejects_unknown_roles() -> None:
    with pytest.raises(accounts.AccountError):
        require_role("admin")


def test_login_helper_works_on_the_corpus_app(app: Flask, client: FlaskClient) -> None:
    """The shared fixture app (the read-only corpus store) logs in like any other."""
    session = login(client, app, "secretariat")
    html = client.get("/").get_data(as_text=True)
    assert f"{session.username} (secretariat)" in html
    assert session.csrf in html


# -- login throttling (issue 11) -------------------------------------------------------------

WRONG = "wrong password!"


def attempt(
    client: FlaskClient, username: str, password: str, address: str = "192.0.2.1"
) -> TestResponse:
    token = session_csrf(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failures_lock_the_account_with_a_growing_delay(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(data_dir, **{"web.login_free_attempts": 3, "web.login_max_delay": 300.0})
    clock = FakeClock.install(app)
    name = create_account(app, "facilitator")
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="webui.auth"):
        for i in range(3):  # the free attempts, each from another address
            assert attempt(client, name, WRONG, f"198.51.100.{i}").status_code == 401
        refused = attempt(client, name, PASSWORD, "203.0.113.5")  # the right password
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    html = refused.get_data(as_text=True)
    assert "Too many failed logins for this account or from your address" in html
    assert "try again in 1 second" in html
    assert client.get("/guarded/facilitator.json").status_code == 401
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4 and "refused" in warnings[-1] and name in warnings[-1]
    assert PASSWORD not in caplog.text and WRONG not in caplog.text

    delays = []
    for _ in range(12):  # each wait doubles, up to web.login_max_delay
        wait = int(attempt(client, name, WRONG).headers["Retry-After"])
        delays.append(wait)
        clock.advance(wait)
        assert attempt(client, name, WRONG).status_code == 401
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    locked = attempt(client, name, PASSWORD)
    assert locked.status_code == 429 and "try again in 5 minutes" in locked.get_data(as_text=True)

    clock.advance(300)
    assert attempt(client, name, PASSWORD).status_code == 302  # the wait is over
    assert client.get("/guarded/facilitator.json").status_code == 200
    # a success resets the account's count: the free attempts are back (from a fresh address)
    for i in range(3):
        assert attempt(client, name, WRONG, f"192.0.2.{100 + i}").status_code == 401
    assert attempt(client, name, WRONG, "192.0.2.200").status_code == 429


def test_failures_from_one_address_across_accounts(data_dir: Path) -> None:
    app = make_app(data_dir, **{"web.login_free_attempts": 5})
    clock = FakeClock.install(app)
    name = create_account(app, "facilitator")
    client = app.test_client()
    for i in range(5):
        assert attempt(client, f"guess-{i}", WRONG, "203.0.113.7").status_code == 401
    assert attempt(client, name, PASSWORD, "203.0.113.7").status_code == 429
    assert attempt(client, name, PASSWORD, "198.51.100.1").status_code == 302  # another address
    clock.advance(1)
    assert attempt(app.test_client(), name, PASSWORD, "203.0.113.7").status_code == 302


def test_ipv6_clients_are_counted_by_their_64_network(data_dir: Path) -> None:
    app = make_app(data_dir, **{"web.login_free_attempts": 2})
    FakeClock.install(app)
    client = app.test_client()
    for host in ("2001:db8:1:2::10", "2001:db8:1:2::11"):
        assert attempt(client, f"user-{host[-2:]}", WRONG, host).status_code == 401
    assert attempt(client, "someone", WRONG, "2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(client, "someone", WRONG, "2001:db8:1:3::1").status_code == 401


def test_refusal_json_twin(data_dir: Path) -> None:
    app = make_app(data_dir, **{"web.login_free_attempts": 1})
    FakeClock.install(app)
    client = app.test_client()
    assert attempt(client, "alice", WRONG).status_code == 401
    token = session_csrf(client)
    refused = client.post(
        "/login",
        data={"username": "alice", "password": WRONG, "csrf_token": token},
        headers={"Accept": "application/json"},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    assert refused.status_code == 429
    assert refused.json is not None and refused.json["retry_after"] == 1
    assert "Too many failed logins" in refused.json["error"]
