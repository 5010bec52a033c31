"""The `mailto:` link that answers a message on its list (as HyperKitty and public-inbox
offer): to the list's posting address, `In-Reply-To` the message's id, `References` its own
references plus its id, the subject prefixed `Re: ` once; percent-encoded as RFC 6068 says.

The posting address is the list's `address` setting (`lists add --address`, TOML `address`):
it cannot be derived reliably from an archive URL (`mail.python.org/pipermail/x` posts to
`x@python.org`), so a list without one gets no reply link.  A message whose Message-ID was made
up by ingest (it had none) gets none either: a reply could not refer to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

_RE = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?re\s*:", re.IGNORECASE)
_ID = re.compile(r"<([^<>\s]+)>|(\S+)")


def reply_subject(subject: str) -> str:
    """`subject` prefixed `Re: ` unless it already starts with one (after a list tag)."""
    subject = " ".join(subject.split())
    return subject if _RE.match(subject) else f"Re: {subject}"


def _ids(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for m in _ID.finditer(value):
            msgid = f"<{m.group(1) or m.group(2)}>"
            if msgid not in out:
                out.append(msgid)
    return out


def reply_url(address: str, subject: str, message_id: str, references: Sequence[str]) -> str | None:
    """The mailto: URL of a reply to the message, or None without an address or an id."""
    own = _ids([message_id])
    if not address or "@" not in address or not own:
        return None
    refs = [r for r in _ids(references) if r != own[0]] + own
    fields = [
        ("subject", reply_subject(subject)),
        ("In-Reply-To", own[0]),
        ("References", " ".join(refs)),
    ]
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in fields)
    return f"mailto:{quote(address.strip(), safe='@')}?{query}"
