"""Absolute URLs never come from the request's Host header (issue 11): they are built from
`web.base_url`, or from the X-Forwarded-* headers of a proxy listed in `web.trusted_proxies`;
otherwise links and redirects are site-relative."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import ConfigError, load_settings
from tests.support.webauth import PASSWORD, create_account, csrf_token_in, session_csrf
from tests.webui.guarded import guard_app, guard_client, make_app
from webui import create_app

__all__ = ["guard_app", "guard_client"]  # fixtures

EVIL = "evil.example"
QUERY = "/search.csv?q=reality&sort=date"


def permalinks(client: FlaskClient, **kwargs: object) -> list[str]:
    response = client.get(QUERY, **kwargs)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) > 20
    return [r["permalink"] for r in rows]


def corpus_app(webui_data: Path, **overrides: object) -> Flask:
    return create_app(load_settings(env={}, overrides={"data_dir": webui_data, **overrides}))


def test_redirects_never_name_the_host_header(guard_app: Flask, guard_client: FlaskClient) -> None:
    host = {"Host": EVIL}
    # Werkzeug's own trailing-slash redirect is built from the Host header
    slash = guard_client.get("/lists/reality", headers=host)
    assert slash.status_code in (301, 308)
    assert slash.headers["Location"] == "/lists/reality/"
    anonymous = guard_client.get("/guarded/facilitator", headers=host)
    assert anonymous.headers["Location"] == "/login?next=/guarded/facilitator"
    name = create_account(guard_app, "facilitator")
    token = csrf_token_in(guard_client.get("/login", headers=host).get_data(as_text=True))
    login = guard_client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token, "next": "/stats"},
        headers=host,
    )
    assert login.status_code == 302 and login.headers["Location"] == "/stats"


def test_redirects_use_base_url(data_dir: Path) -> None:
    app = make_app(data_dir, **{"web.base_url": "https://lists.example.org/archive"})
    slash = app.test_client().get("/lists/reality", headers={"Host": EVIL})
    assert slash.headers["Location"] == "https://lists.example.org/archive/lists/reality/"


def test_csv_permalinks_ignore_the_host_header(client: FlaskClient) -> None:
    links = permalinks(client, headers={"Host": EVIL})
    assert all(link.startswith("/messages/") for link in links)
    assert not any(EVIL in link for link in links)


def test_csv_permalinks_use_base_url(webui_data: Path) -> None:
    app = corpus_app(webui_data, **{"web.base_url": "https://lists.example.org/archive/"})
    links = permalinks(app.test_client(), headers={"Host": EVIL})
    assert all(link.startswith("https://lists.example.org/archive/messages/") for link in links)


FORWARDED = {
    "X-Forwarded-Host": "proxy.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "198.51.100.7",
}


def test_forwarded_headers_of_an_untrusted_peer_are_ignored(
    webui_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = corpus_app(webui_data, **{"web.trusted_proxies": "192.0.2.10"})
    client = app.test_client()
    links = permalinks(client, headers=FORWARDED, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert all(link.startswith("/messages/") for link in links)
    token = session_csrf(client)
    with caplog.at_level(logging.WARNING, logger="webui.auth"):
        client.post(
            "/login",
            data={"username": "nobody", "password": "wrong password!", "csrf_token": token},
            headers=FORWARDED,
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
    assert "203.0.113.9" in caplog.text and "198.51.100.7" not in caplog.text


def test_forwarded_headers_of_a_trusted_proxy_are_honoured(
    webui_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = corpus_app(webui_data, **{"web.trusted_proxies": "192.0.2.10, 10.0.0.0/8"})
    client = app.test_client()
    links = permalinks(client, headers=FORWARDED, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert all(link.startswith("https://proxy.example/messages/") for link in links)
    # a trusted proxy that does not send X-Forwarded-Host: its Host header is not believed
    plain = permalinks(client, headers={"Host": EVIL}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert all(link.startswith("/messages/") for link in plain)
    token = session_csrf(client)
    with caplog.at_level(logging.WARNING, logger="webui.auth"):
        client.post(
            "/login",
            data={"username": "nobody", "password": "wrong password!", "csrf_token": token},
            headers=FORWARDED,
            environ_base={"REMOTE_ADDR": "192.0.2.10"},
        )
    assert "198.51.100.7" in caplog.text


def test_trusted_proxies_are_checked_at_start_up(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="web.trusted_proxies"):
        make_app(data_dir, **{"web.trusted_proxies": "192.0.2.10, proxy.example"})
