"""What an archive URL says about its archive, without the HTTP client (the CLI's start-up
reads it for every command: `listarchive.app.declare_lists`)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

PRIVATE_PATH = "/mailman/private/"


def is_private_url(url: str) -> bool:
    """Whether `url` is a Mailman 2 private archive (it needs a member login)."""
    return PRIVATE_PATH in unquote(urlsplit(url).path)
