"""Checks of single values a setting or a TOML table holds: dates, http(s) URLs without
credentials, origins."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlparse

from config.errors import ConfigError


def check_date(value: str, what: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{what}: {value!r} is not a YYYY-MM-DD date") from exc


_CREDENTIALS_REFUSED = (
    "give the URL without it; a private archive's login goes in the secrets (docs/"
    "configuration.md, private archives)"
)


def check_url(url: str, what: str) -> None:
    """An http(s) URL without credentials in it (they would be sent to whatever host the
    URL names, and printed with it): archive logins belong in the secrets.  The message
    never repeats a URL that holds them, nor one that does not parse and holds an `@`
    (`http:/user:pw@host`): what is echoed has no `user:password@` part to redact."""
    parsed = urlparse(url)
    if "@" in parsed.netloc:
        raise ConfigError(
            f"{what}: the URL holds a user name or password (user:password@host): "
            + _CREDENTIALS_REFUSED
        )
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        if "@" in url:
            raise ConfigError(
                f"{what}: not an http(s) URL (http(s)://host/path), and it looks like it holds "
                "a user name or password (user:password@host; not repeated here): "
                + _CREDENTIALS_REFUSED
            )
        raise ConfigError(f"{what}: {url!r} is not an http(s) URL")


def _shown(url: str) -> str:
    """`url` quoted for a message, unless it holds an `@` (a password may be in it)."""
    return "the URL given" if "@" in url else repr(url)


def check_origin(origin: str, what: str) -> str:
    """An origin declared for a list, `https://host` or `http://host:port`, normalised."""
    check_url(origin.strip(), what)
    parsed = urlparse(origin.strip())
    shown = _shown(origin)
    if not parsed.hostname:
        raise ConfigError(f"{what}: {shown} is not an origin like https://host[:port]")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment or parsed.params:
        raise ConfigError(f"{what}: {shown} is an origin, scheme://host[:port], without a path")
    try:
        parsed.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{what}: {shown} has no valid port") from exc
    return f"{parsed.scheme}://{parsed.netloc.lower()}"
