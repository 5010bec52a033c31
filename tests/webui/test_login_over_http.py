"""Logging in over plain http at an address other than loopback with Secure session cookies
(issue 13): the browser drops the cookie, so the login form's CSRF check used to fail with "The
form has expired: reload the page".  The real cause is said on the login page, on the refused
POST and in the log, with the fix; nothing changes where the cookie can come back."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.webauth import PASSWORD, create_account
from tests.webui.guarded import make_app

LAN = "http://192.0.2.7:8000"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _post_without_the_cookie(app: Flask, base: str, **headers: str) -> tuple[int, str, str]:
    """What a browser does when it dropped the Secure cookie: GET the form (the cookie set
    there is not kept), then POST it without a cookie.  (status, login page, POST body)."""
    name = create_account(app, "facilitator")
    client: FlaskClient = app.test_client()
    page = client.get("/login", base_url=base, headers=headers).get_data(as_text=True)
    (token,) = _TOKEN.findall(page)
    answer = app.test_client().post(  # a client without the cookie
        "/login",
        base_url=base,
        headers=headers,
        data={"username": name, "password": PASSWORD, "csrf_token": token},
    )
    return answer.status_code, page, answer.get_data(as_text=True)


def test_plain_http_on_a_lan_address_says_the_real_cause(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(data_dir)
    with caplog.at_level(logging.WARNING, logger="webui.auth"):
        status, page, body = _post_without_the_cookie(app, LAN)
    assert 'id="login-warning"' in page and "Secure" in page
    assert status == 400
    assert "form has expired" not in body
    for needed in ("plain http", "192.0.2.7:8000", "Secure", "TLS reverse proxy", "web.base_url"):
        assert needed in body
    assert "LISTARCHIVE_WEB_SECURE_COOKIES=false" in body
    assert any("Secure session cookies" in r.getMessage() for r in caplog.records)


def test_other_forms_get_the_cause_too(data_dir: Path) -> None:
    app = make_app(data_dir)
    refused = app.test_client().post(f"{LAN}/logout", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "Secure" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("base", "overrides", "headers"),
    [
        ("http://127.0.0.1:8000", {}, {}),  # loopback: browsers keep Secure cookies there
        ("http://localhost:8000", {}, {}),
        (LAN, {"web.secure_cookies": False}, {}),  # the cookie is not Secure
        (  # https as a trusted TLS proxy reports it
            LAN,
            {"web.trusted_proxies": "127.0.0.1"},
            {"X-Forwarded-Proto": "https"},
        ),
    ],
)
def test_elsewhere_nothing_changes(
    data_dir: Path, base: str, overrides: dict[str, object], headers: dict[str, str]
) -> None:
    app = make_app(data_dir, **overrides)
    status, page, body = _post_without_the_cookie(app, base, **headers)
    assert 'id="login-warning"' not in page
    assert status == 400 and "form has expired" in body  # a cookie really missing
