"""Who may read private lists: decided here once for the reading pages, search, the JSON API,
exports and pipermail redirects.

Any logged-in account (whatever its role) reads the messages of private lists; anonymous
visitors never do (a private list, thread, message or export is a 404, and searches, facets
and hits neither return nor name private lists).  A request that was granted private access
(`sees_private()` answered True) is answered with `Cache-Control: private, no-store` and
`Vary: Cookie` (`init_blueprint` installs that on a blueprint); anonymous answers keep their
headers.  Addresses stay obfuscated for everyone on these pages (docs/webui-contract.md).

What a reader may see is `viewer()`: a `store.visibility.Visibility` taken once per request
and passed to every store query, export and statistic (`store/visibility.py` holds the rule).
Streaming exports run after the request has ended: they take the decision (and the names to
hide) during the request and pass it in.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, g
from werkzeug.wrappers import Response

from store import visibility
from store.visibility import Visibility
from webui.auth import current_user
from webui.extensions import get_store

_GRANTED = "private_access_granted"
_VIEWER = "visibility_viewer"


def sees_private() -> bool:
    """This request may see private lists and their messages: any logged-in account."""
    allowed = current_user() is not None
    if allowed:
        g.setdefault(_GRANTED, True)
    return allowed


def viewer() -> Visibility:
    """What this request may see (taken once per request): everything for a logged-in
    account, the public messages and lists only for an anonymous visitor."""
    private = sees_private()
    found: Visibility | None = g.get(_VIEWER)
    if found is None or found.include_private != private:
        found = visibility.for_reader(get_store().conn, include_private=private)
        setattr(g, _VIEWER, found)
    return found


def hidden_lists() -> frozenset[str]:
    """Names of the lists this request must not name: the private ones for anonymous visitors
    (a message on a public and a private list is public, its private list is not shown),
    none for a logged-in account."""
    return viewer().hidden_lists


def shown_lists(names: Iterable[str]) -> list[str]:
    """`names` without those this request must not see (see `hidden_lists`)."""
    return viewer().shown_lists(names)


def not_shared(response: Response) -> Response:
    """An answer built with private access is for this visitor alone: never stored by a cache
    (shared or the browser's), and varying on the session cookie."""
    if g.get(_GRANTED):
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
    return response


def init_blueprint(bp: Blueprint) -> None:
    """Mark the answers of `bp`'s views that were granted private access (`not_shared`)."""
    bp.after_request(not_shared)
