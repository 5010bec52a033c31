"""Address obfuscation for anonymous visitors: `jane@example.org` -> `jane at …`.

The local part is kept and the domain replaced by `…`; display names are not touched.  Bodies
are scanned for both the plain form and pipermail's own `jane at example.org` form (which the
archive already wrote into many bodies), the latter only when the domain ends in a common
mail top-level domain, so prose such as "look at twisted.internet" is left alone -- except
inside angle brackets (`Laurens <_ at lvh.cc> wrote:`) or parentheses, or before "wrote", where
it is a mailbox as a header shows it: there any domain is hidden, so a body and the headers
follow one rule.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"

_LOCAL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_PLAIN = re.compile(rf"({_LOCAL})@({_DOMAIN})")
_GENERIC_TLDS = "com|org|net|edu|gov|mil|int|info|biz|name|io|us|uk|de|fr|nl|ca|au|jp|se|no|fi"
_PIPERMAIL = re.compile(
    rf"\b({_LOCAL}) at ((?:[A-Za-z0-9-]+\.)+(?:{_GENERIC_TLDS}))\b", re.IGNORECASE
)

# `<local at any.domain>`: a mailbox (pipermail's rewriting of a header-style address)
_BRACKETED = re.compile(rf"<\s*({_LOCAL}) at ({_DOMAIN})\s*>", re.IGNORECASE)
# ... and the attribution forms `(jane at x.cc)` and `jane at x.cc wrote:`
_PARENTHESISED = re.compile(rf"\(\s*({_LOCAL}) at ({_DOMAIN})\s*\)", re.IGNORECASE)
_ATTRIBUTION = re.compile(rf"\b({_LOCAL}) at ({_DOMAIN})(?=:? wrote\b)", re.IGNORECASE)


def obfuscate_address(address: str) -> str:
    """One bare address (`jane@example.org`, or pipermail's `jane at example.org`)."""
    address = address.strip()
    if not address:
        return ""
    if "@" in address:
        local = address.rsplit("@", 1)[0]
    elif " at " in address:
        local = address.split(" at ", 1)[0]
    else:
        return address
    return f"{local} at {ELLIPSIS}"


def obfuscate_text(text: str) -> str:
    """Every address in free text (a body, a subject, a Message-ID)."""
    text = _PLAIN.sub(lambda m: f"{m.group(1)} at {ELLIPSIS}", text)
    text = _BRACKETED.sub(lambda m: f"<{m.group(1)} at {ELLIPSIS}>", text)
    text = _PARENTHESISED.sub(lambda m: f"({m.group(1)} at {ELLIPSIS})", text)
    text = _ATTRIBUTION.sub(lambda m: f"{m.group(1)} at {ELLIPSIS}", text)
    return _PIPERMAIL.sub(lambda m: f"{m.group(1)} at {ELLIPSIS}", text)


def mailbox(name: str, address: str) -> dict[str, str]:
    """A mailbox for display: the name as written, the address obfuscated.  A display name
    that is itself an address (some mailers repeat it) is obfuscated too."""
    return {"name": obfuscate_text(name), "address": obfuscate_address(address)}
