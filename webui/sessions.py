"""Sessions and CSRF protection for the web UI.

The session is Flask's signed cookie.  Its key is `LISTARCHIVE_SECRET_KEY` from the environment
when set, otherwise a random key generated once into `<data_dir>/secret_key` (mode 0600, on the
first request) and reused by every worker and restart; it is never in the code or the TOML
file.  The cookie is
HttpOnly, SameSite=Lax, Secure unless `web.secure_cookies` is false (then it is named
`listarchive_session`; with Secure it carries the `__Host-` prefix, which browsers accept only
from HTTPS, for the whole site and without a Domain).  A logged-in cookie carries only a
random session token; the login itself is a row in the store (`store.sessions`), checked on
every request, so logging out, a password change, disabling or removing the account end it
at once, server-side, and it lasts `web.session_hours` from the moment of logging in however
active it is (see `webui.auth`).  `now()` is the web app's clock (tests set
`app.config["LISTARCHIVE_CLOCK"]`).

CSRF: each session gets a random token (`csrf_token()`, also a Jinja global); every POST, PUT,
PATCH and DELETE must carry it as the `csrf_token` form field or the `X-CSRF-Token` header,
otherwise it is refused with 400 through the one error handler.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from config.settings import ConfigError, Settings

logger = logging.getLogger(__name__)

SECRET_ENV = "LISTARCHIVE_SECRET_KEY"
SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 32
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_CSRF_KEY = "csrf"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CLOCK_KEY = "LISTARCHIVE_CLOCK"


def now() -> float:
    """The current time (Unix seconds) for session expiry and login delays: `time.time()`,
    unless a test put another clock in `app.config[CLOCK_KEY]`."""
    clock: Callable[[], float] | None = current_app.config.get(CLOCK_KEY)
    return float(clock()) if clock is not None else time.time()


def load_secret_key(data_dir: Path) -> str:
    """The session signing key: the environment's, else the data directory's key file (created
    with mode 0600 on first use; concurrent workers all end up with the same key)."""
    from_env = os.environ.get(SECRET_ENV, "")
    if from_env:
        if len(from_env) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
        return from_env
    path = data_dir / SECRET_FILE
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning("%s is readable by others (mode %o): chmod 600 it", path, mode)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{path} holds no usable key: delete it to generate a new one")
    return key


def _create_key_file(path: Path) -> None:
    """Write a new random key to `path` unless another process got there first: the key is
    written to a private temporary file and linked into place, so no reader sees it empty."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(temp, path)
                logger.info("generated a new session key in %s", path)
            except FileExistsError:
                pass  # another worker created it first: use theirs
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the session key file {path}: {exc.strerror}"
            f" (make the data directory writable or set {SECRET_ENV})"
        ) from exc


class KeyFileSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the key read (or generated) from the data directory
    when the first request needs it: building the app writes nothing."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            with self._lock:
                if not app.secret_key:
                    app.secret_key = load_secret_key(self.data_dir)
        return super().get_signing_serializer(app)


def configure(app: Flask, settings: Settings) -> None:
    """Session cookie flags, lifetime and key from the settings."""
    secure = bool(settings["web.secure_cookies"])
    if os.environ.get(SECRET_ENV):
        app.secret_key = load_secret_key(settings.data_dir)  # checked at start-up
    app.session_interface = KeyFileSessionInterface(settings.data_dir)
    app.config.update(
        SESSION_COOKIE_NAME="__Host-listarchive" if secure else "listarchive_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=int(settings["web.session_hours"])),
        SESSION_REFRESH_EACH_REQUEST=False,  # a login lasts web.session_hours, not longer
    )


def csrf_token() -> str:
    """This session's CSRF token (created, and the session with it, on first use)."""
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return token


def new_session() -> None:
    """Forget everything in the session (at login and logout) and start a fresh CSRF token."""
    session.clear()
    session[_CSRF_KEY] = secrets.token_urlsafe(32)


def _check_csrf() -> None:
    if request.method not in _UNSAFE_METHODS:
        return
    expected = session.get(_CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not isinstance(expected, str) or not expected:
        logger.warning("%s %s refused: no CSRF token in the session", request.method, request.path)
        abort(400, "The form has expired: reload the page and try again.")
    if not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
        logger.warning("%s %s refused: wrong CSRF token", request.method, request.path)
        abort(400, "The form has expired: reload the page and try again.")


def init_app(app: Flask, settings: Settings) -> None:
    configure(app, settings)
    app.before_request(_check_csrf)
    app.add_template_global(csrf_token, "csrf_token")
