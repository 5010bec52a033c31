"""Who may read private lists: decided here once for the reading pages, search, the JSON API,
exports and pipermail redirects.

Any logged-in account (whatever its role) reads the messages of private lists; anonymous
visitors never do (a private list, thread, message or export is a 404, and searches, facets
and hits neither return nor name private lists).  A request that was granted private access
(`sees_private()` answered True) is answered with `Cache-Control: private, no-store` and
`Vary: Cookie` (`init_blueprint` installs that on a blueprint); anonymous answers keep their
headers.  Addresses stay obfuscated for everyone on these pages (docs/webui-contract.md).

Streaming exports run after the request has ended: they take the decision (and the names to
hide) during the request and pass it in.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, g
from werkzeug.wrappers import Response

from webui.auth import current_user
from webui.extensions import get_store

_GRANTED = "private_access_granted"
_HIDDEN = "hidden_list_names"


def sees_private() -> bool:
    """This request may see private lists and their messages: any logged-in account."""
    allowed = current_user() is not None
    if allowed:
        g.setdefault(_GRANTED, True)
    return allowed


def hidden_lists() -> frozenset[str]:
    """Names of the lists this request must not name: the private ones for anonymous visitors
    (a message on a public and a private list is public, its private list is not shown),
    none for a logged-in account."""
    if sees_private():
        return frozenset()
    if _HIDDEN not in g:
        setattr(g, _HIDDEN, frozenset(i.name for i in get_store().lists() if i.private))
    hidden: frozenset[str] = getattr(g, _HIDDEN)
    return hidden


def shown_lists(names: Iterable[str]) -> list[str]:
    """`names` without those this request must not see (see `hidden_lists`)."""
    hidden = hidden_lists()
    return [name for name in names if name not in hidden]


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
