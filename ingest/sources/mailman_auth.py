"""Member login to a Mailman 2 private archive (`/mailman/private/<list>/`).

How Mailman 2.1 behaves (its `Cgi/private.py`, `SecurityManager.py`, `private.html`):

* Every page under the private archive URL checks for the member's cookie; without one it
  answers the login form (HTML, status 200) instead of the page asked for.  The form posts
  back to the very URL that was asked for, with the fields `username` (the member address),
  `password` and `submit`.
* A correct POST answers the requested page itself and sets a session cookie named
  `<listname>+user+<address, obscured and quoted>` (path: Mailman's URL path, e.g.
  `/mailman/`; `secure` on https; no expiry).  Later requests carrying it are served, and the
  cookie is refreshed on each.
* A wrong password answers the login form again, with status 401 and "Authorization failed."
* Text volumes that are stored gzipped are served decompressed (as `text/plain`).

So the login is one POST to the archive index URL; its answer is the index page, and the
cookie lands in the shared `httpx` client's jar, which sends it with every later request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import httpx

from config.secrets import ArchiveCredentials
from ingest.errors import SourceError
from ingest.http import HttpFetcher

logger = logging.getLogger(__name__)

PRIVATE_PATH = "/mailman/private/"
_PASSWORD_INPUT = re.compile(rb"""<input[^>]*name\s*=\s*["']?password\b""", re.IGNORECASE)


def is_private_url(url: str) -> bool:
    """Whether `url` is a Mailman 2 private archive (it needs a member login)."""
    return PRIVATE_PATH in httpx.URL(url).path


def is_login_form(content: bytes) -> bool:
    """Whether a page is Mailman's login form rather than an archive page or volume."""
    head = content[:4096]
    return head.lstrip()[:1] == b"<" and _PASSWORD_INPUT.search(head) is not None


@dataclass(frozen=True, slots=True)
class LoginResult:
    index_html: bytes
    """The archive index page, which Mailman answers to a successful login POST."""
    requests: int = 1


def login(
    fetcher: HttpFetcher, list_name: str, url: str, credentials: ArchiveCredentials
) -> LoginResult:
    """Log in to the private archive at `url`; the session cookie stays in `fetcher.client`.

    Raises `SourceError` when the login is refused or the server cannot be reached; neither
    the message nor the log ever holds the password."""
    logger.info("%s: logging in to the private archive (%s)", list_name, credentials.origin)
    form = {"username": credentials.username, "password": credentials.password, "submit": "1"}
    try:
        response = fetcher.client.post(url, data=form)
    except httpx.HTTPError as exc:
        raise SourceError(url, f"login failed for {list_name}: {exc}") from exc
    if response.status_code in (401, 403) or (
        response.status_code == 200 and is_login_form(response.content)
    ):
        logger.error("%s: the private archive refused the login", list_name)
        raise SourceError(url, f"login refused for {list_name}: check the credentials")
    if response.status_code != 200:
        raise SourceError(
            url, f"login failed for {list_name}: HTTP {response.status_code} for {url}"
        )
    if not any("+user+" in cookie.name for cookie in fetcher.client.cookies.jar):
        logger.warning("%s: the archive set no member cookie; continuing", list_name)
    return LoginResult(response.content)
