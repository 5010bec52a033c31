"""Undo Mailman's DMARC From rewriting ("Jane Doe via some-list <some-list@example.org>").

Mailman (2.1 `from_is_list` / DMARC munging, and 3's `dmarc_mitigate_action = munge_from`)
replaces the sender of a post from a strict-DMARC domain with the list's own address, adds
` via <list>` to the display name, and puts the real sender in `Reply-To` (or keeps it in
`X-Original-From`).  `recover_sender` gives the real sender back when that is unambiguous:

- the From display name ends with ` via <something>`,
- the From address is the list's own posting address (the `List-Post` mailto, `X-BeenThere`,
  or the address derived from `List-Id`),
- `X-Original-From`, else `Reply-To`, holds exactly one address, and it is not the list's.

Otherwise it returns None and the header From stands.  Pure: no I/O.
"""

from __future__ import annotations

import re
from email.message import Message as EmailMessage

from ingest.addresses import parse_address_list
from store.models import Address

FLAG = "dmarc-from-recovered"

_VIA = re.compile(r"^(?P<name>.*?\S)\s+via\s+\S.*$", re.DOTALL)
_MAILTO = re.compile(r"<\s*mailto:([^>?\s]+)", re.IGNORECASE)
_LIST_ID = re.compile(r"<([^.>\s]+)\.([^>\s]+)>")


def _text(value: object) -> str:
    return str(value) if value is not None else ""


def list_addresses(msg: EmailMessage) -> set[str]:
    """The list's own posting address(es) as the message's list headers state them."""
    found: set[str] = set()
    for value in msg.get_all("List-Post") or []:
        found.update(m.lower() for m in _MAILTO.findall(_text(value)))
    for value in msg.get_all("X-BeenThere") or []:
        text = _text(value).strip().strip("<>").lower()
        if "@" in text:
            found.add(text)
    for value in msg.get_all("List-Id") or []:
        match = _LIST_ID.search(_text(value))
        if match:
            found.add(f"{match[1]}@{match[2]}".lower())
    return found


def recover_sender(msg: EmailMessage, sender: Address) -> Address | None:
    """The real sender of a DMARC-munged post, or None when there is nothing safe to undo."""
    match = _VIA.match(sender.name)
    if not match or not sender.address:
        return None
    own = list_addresses(msg)
    if sender.address.lower() not in own:
        return None
    for header in ("X-Original-From", "Reply-To"):
        values = [_text(v) for v in msg.get_all(header) or []]
        if not values:
            continue
        candidates = parse_address_list(values)
        if len(candidates) != 1:
            return None
        real = candidates[0]
        if not real.address or real.address.lower() in own:
            return None
        name = match["name"].strip().strip("\"'").strip()
        return Address(name=name, address=real.address)
    return None
