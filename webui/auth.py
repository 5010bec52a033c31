"""Logging in to the web UI and guarding pages by role (issues 7 and 11).

Accounts are made with `listarchive users` (never from the web).  `POST /login` first asks the
login throttle (`store.login_throttle`) whether this account and this client address may try
now: after `web.login_free_attempts` failures each further attempt must wait a doubling delay
(up to `web.login_max_delay`), and an attempt during the wait is answered 429 with
`Retry-After` and a plain sentence, without checking the password.  A right password makes a
server-side session (`store.sessions`): a fresh cookie (so a planted one is never promoted)
that carries only the session's random token.  Every request looks the token up and re-reads
the account (`current_user()`); `POST /logout` deletes the row, and a password change,
disabling or removing the account (`listarchive users ...`) delete all its rows, so a copied
cookie stops working at once.  Failures and refusals are logged as warnings (never the
password), with the client address (`request.remote_addr`: see `webui.urls` for proxies).

Over plain http at an address other than loopback, a browser never sends back a `Secure`
session cookie (`web.secure_cookies`), so every form would fail its CSRF check with "the form
has expired".  That case is recognised (`cookie_problem()`: http, not loopback, the cookie
Secure, none sent) and said as it is, on the login page and in the log, with the fix.

Pages that show personal data are wrapped in `@require_role("facilitator")` (or
`"secretariat"`, which may also see everything a facilitator may).  Anonymous visitors are sent
to the login form (HTML) or answered 401 (JSON twins, CSV exports); a logged-in account without
the role gets 403.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import sqlite3
from collections.abc import Callable
from typing import Any, ParamSpec
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from store import accounts, login_throttle
from store import sessions as session_store
from store.accounts import Account
from store.store import StoreError
from webui import sessions
from webui.extensions import get_store, get_writable_store, settings
from webui.views import render, wants_json

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

P = ParamSpec("P")
_SID_KEY = "sid"
_OLD_KEYS = ("user", "stamp", "at")  # cookies from before server-side sessions
LOGIN_FAILED = "Unknown username or wrong password."
TOUCH_EVERY = 300
"""Seconds between updates of a session's `last_seen` (a write, so not on every request)."""


# -- who is logged in ------------------------------------------------------------------------


def current_user() -> Account | None:
    """The logged-in, enabled account of this request, or None (anonymous).

    Checked against the store once per request: a session that was ended (logout, password
    change, account disabled or removed, `listarchive users revoke`) or has expired counts as
    logged out."""
    if "current_user" in g:
        cached: Account | None = g.current_user
        return cached
    account = _load_user()
    g.current_user = account
    return account


def _load_user() -> Account | None:
    for key in _OLD_KEYS:
        session.pop(key, None)
    token = session.get(_SID_KEY)
    if not isinstance(token, str) or not token:
        return None
    conn = get_store().conn
    now = sessions.now()
    try:
        record = session_store.lookup(conn, token, now=now)
        account = accounts.get_account(conn, record.username) if record else None
    except sqlite3.Error as exc:
        raise StoreError(f"accounts cannot be read: {exc}") from exc
    if record is None or account is None or account.disabled:
        logger.info("a session ended: logged out, expired, revoked or its account changed")
        session.pop(_SID_KEY, None)
        return None
    if now - record.last_seen >= TOUCH_EVERY:
        _touch(token, now)
    return account


def _touch(token: str, now: float) -> None:
    """Note the session's use; a store that cannot be written just misses the note."""
    try:
        session_store.touch(get_writable_store().conn, token, now=now)
    except (sqlite3.Error, StoreError) as exc:
        logger.warning("last use of a session not recorded: %s", exc)


def nav_user() -> Account | None:
    """`current_user()` for the page header: None when the store cannot be read (the error
    page for that very problem must still render)."""
    try:
        return current_user()
    except StoreError:
        return None


# -- guarding views --------------------------------------------------------------------------


def wants_data() -> bool:
    """A JSON twin or a CSV export (answered 401, not redirected to the login form)."""
    return request.path.endswith((".json", ".csv")) or wants_json()


def require_role(
    role: str,
) -> Callable[[Callable[P, ResponseReturnValue]], Callable[P, Response]]:
    """Decorate a view so that only accounts allowed `role` reach it.

    Anonymous: HTML gets a 302 to `/login?next=<path>`, JSON/CSV a 401; another role: 403.
    Answers are marked `Cache-Control: private, no-store` (they may carry personal data)."""
    accounts.check_role(role)

    def decorator(view: Callable[P, ResponseReturnValue]) -> Callable[P, Response]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
            user = current_user()
            if user is None:
                if wants_data():
                    abort(401, "Log in to see this page.")
                target = request.full_path if request.query_string else request.path
                return redirect(url_for("auth.login", next=target))
            if not accounts.role_allows(user.role, role):
                logger.warning(
                    "%s (%s) refused %s: needs %s", user.username, user.role, request.path, role
                )
                abort(403, "Your account may not see this page.")
            response = make_response(view(*args, **kwargs))
            response.headers["Cache-Control"] = "private, no-store"
            response.vary.add("Cookie")
            return response

        return wrapped

    return decorator


# -- login and logout ------------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else `/` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


COOKIE_PROBLEM = (
    "Logging in cannot work here: this page came over plain http from {host}, and the session "
    "cookie is Secure (web.secure_cookies), so your browser does not send it back and every "
    "form looks expired. Serve the site over https: put a TLS reverse proxy in front of it and "
    "set web.base_url to its https:// address (and web.trusted_proxies to the proxy). For local "
    "development only, set LISTARCHIVE_WEB_SECURE_COOKIES=false."
)


def _loopback(host: str) -> bool:
    """Is `host` (a Host header: name or address, with or without a port) this machine?
    Browsers keep Secure cookies for http://localhost and loopback addresses."""
    name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.split(":")[0]
    if name.lower() == "localhost" or name.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cookie_problem() -> str:
    """Why this browser cannot keep a session, or "": the request is plain http (after trusted
    proxies' X-Forwarded-Proto), to an address other than loopback, and the session cookie is
    Secure, so the browser drops it."""
    if not current_app.config.get("SESSION_COOKIE_SECURE") or request.scheme == "https":
        return ""
    if _loopback(request.host):
        return ""
    return COOKIE_PROBLEM.format(host=request.host)


def _explain_dropped_cookie() -> ResponseReturnValue | None:
    """Before the CSRF check: a form sent without the session cookie because the browser
    dropped a Secure cookie over http gets the real cause, not "the form has expired"."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return None
    problem = cookie_problem()
    if not problem:
        return None
    logger.warning(
        "%s %s from %s refused: plain http to %s with Secure session cookies "
        "(web.secure_cookies): the browser sends no cookie; serve over https behind a TLS proxy",
        request.method,
        request.path,
        request.remote_addr,
        request.host,
    )
    if request.endpoint == "auth.login_post" and not wants_json():
        return _login_page(400, problem, request.form.get("username", "").strip()[:64])
    abort(400, problem)


def _login_page(
    status: int = 200, error: str = "", username: str = "", retry_after: int = 0
) -> Response:
    data: dict[str, Any] = {
        "next": safe_next(request.values.get("next")),
        "error": error,
        "username": username,
    }
    warning = cookie_problem()
    if warning and warning != error:
        data["warning"] = warning
    if retry_after:
        data["retry_after"] = retry_after
    response = make_response(render("login.html", data, status))
    response.headers["Cache-Control"] = "no-store"
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def wait_text(seconds: float) -> str:
    """`seconds` for people: "1 second", "40 seconds", "2 minutes" (rounded up)."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def too_many(seconds: float) -> str:
    return (
        "Too many failed logins for this account or from your address; "
        f"try again in {wait_text(seconds)}."
    )


def _client_label(address: str) -> str:
    """Who made a session, for `listarchive users sessions`: address and browser."""
    agent = "".join(c for c in request.user_agent.string[:150] if c.isprintable())
    return f"{address} {agent}".strip()


def _limits() -> login_throttle.Limits:
    return login_throttle.Limits(
        free_attempts=int(settings()["web.login_free_attempts"]),
        max_delay=float(settings()["web.login_max_delay"]),
    )


@bp.get("/login")
def login() -> ResponseReturnValue:
    return _login_page()


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or ""
    account_key = login_throttle.account_key(username)
    address_key = login_throttle.address_key(address)
    limits = _limits()
    now = sessions.now()
    try:
        conn = get_writable_store().conn
        attempt = login_throttle.begin(conn, account_key, address_key, now=now, limits=limits)
        if attempt.refused:
            logger.warning(
                "login for %r from %s refused: %d failures for the account, %d from the"
                " address; next attempt allowed in %.0f s",
                username[:64],
                address,
                attempt.account_failures,
                attempt.address_failures,
                attempt.wait,
            )
            return _login_page(429, too_many(attempt.wait), username, math.ceil(attempt.wait))
        account = accounts.authenticate(conn, username, password)
        if account is None:
            wait = max(
                login_throttle.delay_after(attempt.account_failures, limits),
                login_throttle.delay_after(attempt.address_failures, limits),
            )
            logger.warning(
                "failed login for %r from %s (%d failures for the account, %d from the address)",
                username[:64],
                address,
                attempt.account_failures,
                attempt.address_failures,
            )
            error = LOGIN_FAILED + (f" {too_many(wait)}" if wait else "")
            return _login_page(401, error, username)
        login_throttle.succeeded(conn, account_key, address_key)
        token = session_store.create(
            conn,
            account.username,
            now=now,
            lifetime=current_app.permanent_session_lifetime.total_seconds(),
            client=_client_label(address),
        )
    except sqlite3.Error as exc:
        raise StoreError(f"accounts cannot be read: {exc}") from exc
    sessions.new_session()
    session.permanent = True
    session[_SID_KEY] = token
    g.current_user = account
    logger.info("%s (%s) logged in from %s", account.username, account.role, address)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    token = session.get(_SID_KEY)
    user = current_user()
    if isinstance(token, str) and token:
        try:
            session_store.end(get_writable_store().conn, token)
        except sqlite3.Error as exc:
            raise StoreError(f"the session could not be ended: {exc}") from exc
    session.clear()  # the cookie is deleted
    g.current_user = None
    if user:
        logger.info("%s logged out", user.username)
    return redirect(url_for("pages.home"))


def init_app(app: Flask) -> None:
    """Session cookie and key, the CSRF check, and `current_user()` for the templates."""
    app.before_request(_explain_dropped_cookie)  # runs before the CSRF check
    sessions.init_app(app, app.config["LISTARCHIVE_SETTINGS"])
    app.add_template_global(nav_user, "current_user")
