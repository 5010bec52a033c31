"""Absolute URLs and the client's address, never taken from what any client says (issue 11).

- `absolute_url(path)` is the one way to make an absolute URL (CSV permalinks, redirects):
  `web.base_url` + path when it is set; else, for a request that came through a trusted
  proxy which sent `X-Forwarded-Host`, that host (and its `X-Forwarded-Proto`/`-Prefix`);
  else the site-relative path.  The `Host` header alone is never used.
- Every `Location` header that points at the request's own host (Werkzeug builds its
  trailing-slash redirects from `Host`) is rewritten through `absolute_url` on the way out.
- `TrustedProxies` applies Werkzeug's `ProxyFix` (X-Forwarded-For, -Proto, -Host, -Port,
  -Prefix, one proxy deep) only to requests whose peer address is in `web.trusted_proxies`
  (addresses or networks); from anyone else the X-Forwarded-* and Forwarded headers are
  dropped before the app sees them.  So `request.remote_addr` is the client's address:
  the peer's, or the one a trusted proxy reported.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import ConfigError
from webui.extensions import settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

FORWARDED_HOST = "listarchive.forwarded_host"
"""Environ key: True when a trusted proxy named the public host (X-Forwarded-Host)."""
_FORWARDED_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(text: str) -> list[Network]:
    """`web.trusted_proxies`: comma-separated addresses or networks (`10.0.0.0/8`)."""
    found: list[Network] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"web.trusted_proxies: {item!r} is not an IP address or network"
            ) from exc
    return found


def _peer_in(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


class TrustedProxies:
    """WSGI middleware: believe the X-Forwarded-* headers of the listed proxies only."""

    def __init__(self, app: WSGIApplication, proxies: list[Network]) -> None:
        self.app = app
        self.proxies = proxies
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.proxies and _peer_in(str(environ.get("REMOTE_ADDR", "")), self.proxies):
            environ[FORWARDED_HOST] = bool(environ.get("HTTP_X_FORWARDED_HOST"))
            return self.fixed(environ, start_response)
        for key in [k for k in environ if k.startswith(_FORWARDED_HEADERS)]:
            del environ[key]
        environ[FORWARDED_HOST] = False
        return self.app(environ, start_response)


def absolute_url(path: str) -> str:
    """The absolute URL of `path` (a path inside the app, such as `/messages/<key>`, with
    its query if any), or the site-relative path when no trustworthy origin is known."""
    if not path.startswith("/"):
        path = "/" + path
    base = str(settings()["web.base_url"])
    if base:
        return base.rstrip("/") + path
    if request.environ.get(FORWARDED_HOST):
        return request.host_url.rstrip("/") + request.script_root + path
    return request.script_root + path


def _own_host_location(response: Response) -> Response:
    """Rewrite a `Location` built from the request's Host header through `absolute_url`."""
    location = response.headers.get("Location")
    if not location:
        return response
    parts = urlsplit(location)
    if not parts.netloc or parts.netloc.lower() != request.host.lower():
        return response
    path = parts.path or "/"
    root = request.script_root
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
    response.headers["Location"] = absolute_url(path + (f"?{parts.query}" if parts.query else ""))
    return response


def init_app(app: Flask) -> None:
    """Install the proxy middleware (checked at start-up) and the Location rewrite."""
    proxies = parse_proxies(str(app.config["LISTARCHIVE_SETTINGS"]["web.trusted_proxies"]))
    app.wsgi_app = TrustedProxies(app.wsgi_app, proxies)  # type: ignore[method-assign]
    app.after_request(_own_host_location)
