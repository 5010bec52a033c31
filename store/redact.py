"""Credentials never printed: a URL's `user:password@` part is masked wherever text is shown.

Lists whose URL holds credentials are refused when they are added (see
`config.settings.check_url`), but a store made before that may still hold one: every place
that shows a list URL or an error mentioning it (sync output, `runs`, `lists`, the web UI)
passes it through `redact` first.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"""(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s"'<>]*@""")
MASK = "***@"


def redact(text: str) -> str:
    """`text` with the user name and password of every URL in it replaced by `***`."""
    return _USERINFO.sub(lambda m: m["scheme"] + MASK, text)


def has_credentials(url: str) -> bool:
    """Whether `url` carries a user name or password (`scheme://user:pw@host/`)."""
    return _USERINFO.match(url.strip()) is not None
