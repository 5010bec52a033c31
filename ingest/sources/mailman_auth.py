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
A redirect answering the POST is not followed when it would re-send the form (307/308): the
password goes to the list's own URL and nowhere else.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from config.secrets import ArchiveCredentials
from ingest.archive_urls import PRIVATE_PATH as PRIVATE_PATH
from ingest.archive_urls import is_private_url as is_private_url
from ingest.errors import SourceError
from ingest.http import HttpFetcher
from ingest.origins import OriginPolicy
from store.redact import redact

logger = logging.getLogger(__name__)

_PASSWORD_INPUT = re.compile(rb"""<input[^>]*name\s*=\s*["']?password\b""", re.IGNORECASE)


def is_login_form(content: bytes) -> bool:
    """Whether a page is Mailman's login form rather than an archive page or volume."""
    head = content[:4096]
    return head.lstrip()[:1] == b"<" and _PASSWORD_INPUT.search(head) is not None


@dataclass(frozen=True, slots=True)
class LoginResult:
    index_html: bytes
    """The archive index page, which Mailman answers to a successful login POST."""
    requests: int = 1
    url: str = ""
    """Where the index came from (after the login's redirects): its links are relative to it."""


def login(
    fetcher: HttpFetcher,
    list_name: str,
    url: str,
    credentials: ArchiveCredentials,
    policy: OriginPolicy | None = None,
) -> LoginResult:
    """Log in to the private archive at `url`; the session cookie stays in `fetcher.client`.

    The form (with the password) is posted to `url` only: never retried, and never re-sent by
    a redirect (`HttpFetcher.post_form`).  Raises `SourceError` when the login is refused or
    the server cannot be reached; neither the message nor the log ever holds the password."""
    logger.info("%s: logging in to the private archive (%s)", list_name, credentials.origin)
    form = {"username": credentials.username, "password": credentials.password, "submit": "1"}
    shown = redact(url)
    result = fetcher.post_form(url, form, policy=policy or OriginPolicy.for_url(url))
    if result.status in (401, 403) or (result.status == 200 and is_login_form(result.content)):
        logger.error("%s: the private archive refused the login", list_name)
        raise SourceError(shown, f"login refused for {list_name}: check the credentials")
    if result.error or result.status != 200:
        reason = result.error or f"HTTP {result.status} for {shown}"
        raise SourceError(shown, f"login failed for {list_name}: {reason}")
    if not any("+user+" in cookie.name for cookie in fetcher.client.cookies.jar):
        logger.warning("%s: the archive set no member cookie; continuing", list_name)
    return LoginResult(result.content, url=result.url or url)
