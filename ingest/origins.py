"""Which origins (scheme, host, port) a list's archive may be fetched from.

An archive is untrusted input: its index page may link volumes anywhere (another host, or
`127.0.0.1:<port>` of a service beside us), and its server may redirect anywhere.  A list's
requests therefore go only to the origin of its own URL, plus the origins declared for it
(`lists add --allow-origin`, TOML `allow_origins`: the archive moved to a new host and the old
one redirects there).  The one implicit extra is the upgrade of an allowed `http://host` to
`https://host` on the default ports (the common "always https" redirect).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from config.settings import check_origin

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) of an http(s) URL, lower-cased, with the default port filled in."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    scheme = parsed.scheme.lower()
    port = parsed.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, parsed.host.lower(), port


def origin_text(origin: Origin) -> str:
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


def parse_origin(text: str) -> Origin:
    """An origin as declared by a user (`https://host`, `http://host:8080`); `ConfigError`
    for anything else (a path, credentials, another scheme)."""
    return origin_of(check_origin(text, "allowed origin"))


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    origins: frozenset[Origin]

    @classmethod
    def for_url(cls, url: str, extra: Iterable[str] = ()) -> OriginPolicy:
        """The list at `url` may be fetched from its own origin and the `extra` declared ones."""
        return cls(frozenset({origin_of(url), *(parse_origin(o) for o in extra)}))

    def allows(self, url: str | httpx.URL) -> bool:
        try:
            scheme, host, port = origin_of(url)
        except httpx.InvalidURL:
            return False
        if (scheme, host, port) in self.origins:
            return True
        # an allowed plain-http origin upgraded to https on the default ports
        return scheme == "https" and port == 443 and ("http", host, 80) in self.origins

    def describe(self) -> str:
        return ", ".join(sorted(origin_text(o) for o in self.origins))

    def refusal(self, url: str | httpx.URL) -> str:
        """Why `url` (which `allows` refused) is not fetched, and what to do if it should be:
        declaring an origin is only offered for an http(s) one; other schemes are never
        fetched."""
        try:
            scheme, host, port = origin_of(url)
        except httpx.InvalidURL:
            return f"not a valid http(s) URL (the list's archive is on {self.describe()})"
        if scheme in _DEFAULT_PORTS and not host:
            return f"not a valid http(s) URL: no host (the list's archive is on {self.describe()})"
        if scheme not in _DEFAULT_PORTS:
            shown = f"the scheme {scheme}:" if scheme else "a URL without a scheme"
            return (
                f"{shown} is not allowed: only http and https are fetched, from the list's "
                f"archive ({self.describe()})"
            )
        return (
            f"on another origin than the list's archive ({self.describe()}) (if the archive "
            "moved there, declare it: lists add NAME ... --allow-origin "
            f"{origin_text((scheme, host, port))})"
        )
