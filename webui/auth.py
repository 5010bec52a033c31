"""Logging in to the web UI and guarding pages by role (issue 7).

Accounts are made with `listarchive users` (never from the web).  `POST /login` checks the
password, clears the session (a fresh session, so a planted one is never promoted) and keeps the
username in it; `POST /logout` clears it.  Every request re-reads the account from the `users`
table (`current_user()`), so a disabled or removed account, or one whose password was changed,
loses access at once.

Pages that show personal data are wrapped in `@require_role("facilitator")` (or
`"secretariat"`, which may also see everything a facilitator may).  Anonymous visitors are sent
to the login form (HTML) or answered 401 (JSON twins, CSV exports); a logged-in account without
the role gets 403.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
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

from store import accounts
from store.accounts import Account
from store.store import StoreError
from webui import sessions
from webui.extensions import get_store
from webui.views import render, wants_json

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

P = ParamSpec("P")
_USER_KEY = "user"
_STAMP_KEY = "stamp"
_AT_KEY = "at"
LOGIN_FAILED = "Unknown username or wrong password."


# -- who is logged in ------------------------------------------------------------------------


def current_user() -> Account | None:
    """The logged-in, enabled account of this request, or None (anonymous).

    Checked against the `users` table once per request: an account that was disabled,
    removed or given a new password since the login counts as logged out."""
    if "current_user" in g:
        cached: Account | None = g.current_user
        return cached
    account = _load_user()
    g.current_user = account
    return account


def _load_user() -> Account | None:
    username = session.get(_USER_KEY)
    if not isinstance(username, str) or not username:
        return None
    conn = get_store().conn
    try:
        account = accounts.get_account(conn, username)
        stamp = accounts.credential_stamp(conn, username)
    except sqlite3.Error as exc:
        raise StoreError(f"accounts cannot be read: {exc}") from exc
    if account is None or account.disabled or stamp != session.get(_STAMP_KEY):
        logger.info("session of %s ended: account removed, disabled or password changed", username)
    elif not _login_is_recent():
        logger.info("session of %s ended: logged in more than web.session_hours ago", username)
    else:
        return account
    for key in (_USER_KEY, _STAMP_KEY, _AT_KEY):
        session.pop(key, None)
    return None


def _login_is_recent() -> bool:
    """The login is younger than `web.session_hours`: an absolute limit, however active the
    session (the signed cookie's own timestamp is renewed whenever the session changes)."""
    at = session.get(_AT_KEY)
    if not isinstance(at, int):
        return False
    age = time.time() - at
    return -60 <= age < current_app.permanent_session_lifetime.total_seconds()


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


def _login_page(status: int = 200, error: str = "", username: str = "") -> Response:
    data: dict[str, Any] = {
        "next": safe_next(request.values.get("next")),
        "error": error,
        "username": username,
    }
    response = make_response(render("login.html", data, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/login")
def login() -> ResponseReturnValue:
    return _login_page()


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        account = accounts.authenticate(get_store().conn, username, password)
    except sqlite3.Error as exc:
        raise StoreError(f"accounts cannot be read: {exc}") from exc
    if account is None:
        logger.warning("failed login for %r from %s", username[:64], request.remote_addr)
        return _login_page(401, LOGIN_FAILED, username)
    sessions.new_session()
    session.permanent = True
    session[_USER_KEY] = account.username
    session[_STAMP_KEY] = accounts.credential_stamp(get_store().conn, account.username)
    session[_AT_KEY] = int(time.time())
    g.current_user = account
    logger.info("%s (%s) logged in from %s", account.username, account.role, request.remote_addr)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    user = session.get(_USER_KEY)
    session.clear()  # the cookie is deleted
    g.current_user = None
    if user:
        logger.info("%s logged out", user)
    return redirect(url_for("pages.home"))


def init_app(app: Flask) -> None:
    """Session cookie and key, the CSRF check, and `current_user()` for the templates."""
    sessions.init_app(app, app.config["LISTARCHIVE_SETTINGS"])
    app.add_template_global(nav_user, "current_user")
