"""Credentials never printed: a URL's `user:password@` part is masked wherever text is shown.

Lists whose URL holds credentials are refused when they are added (see
`config.settings.check_url`), but a store made before that may still hold one: every place
that shows a list URL or an error mentioning it (sync output, `runs`, `lists`, the web UI)
passes it through `redact` first.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"""(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s"'<>]*@""")
# what a URL that does not parse still shows of a password: `http:/bob:pw@h`, `http:bob:pw@h`,
# `https:\\bob:pw@h`, `bob:pw@h/`: anything shaped `x:y@`, after any scheme and slashes
_LOOSE_USERINFO = re.compile(
    r"""(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*:[/\\]*)?[^/\\?#\s"'<>@:]+:[^/\\?#\s"'<>@]*@"""
)
MASK = "***@"


def _mask(match: re.Match[str]) -> str:
    return (match["scheme"] or "") + MASK


def redact(text: str) -> str:
    """`text` with the user name and password of every URL in it replaced by `***`, also in
    URLs that do not parse (anything that looks like `user:password@`)."""
    return _LOOSE_USERINFO.sub(_mask, _USERINFO.sub(_mask, text))


def has_credentials(url: str) -> bool:
    """Whether `url` carries a user name or password (`scheme://user:pw@host/`, or what looks
    like one in a URL that does not parse)."""
    stripped = url.strip()
    return _USERINFO.match(stripped) is not None or _LOOSE_USERINFO.match(stripped) is not None
