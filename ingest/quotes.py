"""Plain-text body surgery: pipermail scrub notices, list footers, quotes and signatures.

`split_body` and `strip_footers` (own text, quoted text and signature; list footers) live in
`store.body_parts`: the store derives a stored body's parts from it when read (issue 14), so
both sides use one set of rules; they are re-exported here for the parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import filterfalse

from store.body_parts import BodyParts, split_body, strip_footers
from store.models import Attachment

__all__ = ["BodyParts", "normalise_for_hash", "split_body", "strip_footers", "strip_scrubbed"]

_SCRUBBED = re.compile(
    r"(?:^-{10,} ?next part ?-{10,}[ \t]*\n|\A\s*)"
    r"(An HTML attachment was scrubbed\.\.\.|A non-text attachment was scrubbed\.\.\."
    r"|An embedded and charset-unspecified text was scrubbed\.\.\."
    r"|An embedded message was scrubbed\.\.\.)[ \t]*\n"
    r"((?:[A-Za-z]+ ?:[^\n]*(?:\n|\Z))*)",
    re.MULTILINE,
)
_SCRUB_TYPES = {
    "An HTML attachment was scrubbed...": "text/html",
    "A non-text attachment was scrubbed...": "application/octet-stream",
    "An embedded and charset-unspecified text was scrubbed...": "text/plain",
    "An embedded message was scrubbed...": "message/rfc822",
}
_SIZE = re.compile(r"(\d+)")


def strip_scrubbed(text: str) -> tuple[str, list[Attachment]]:
    """Remove pipermail `next part ... was scrubbed` notices; return them as attachments."""
    if "scrubbed..." not in text:
        return text, []
    found: list[Attachment] = []

    def record(match: re.Match[str]) -> str:
        fields: dict[str, str] = {}
        for line in match.group(2).splitlines():
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        name = fields.get("name", "")
        if name == "not available":
            name = ""
        size_match = _SIZE.search(fields.get("size", ""))
        ctype = fields.get("type", "") or _SCRUB_TYPES.get(match.group(1), "")
        url = (fields.get("url") or "").strip().strip("<>")
        found.append(
            Attachment(
                filename=name,
                content_type=ctype.lower(),
                size=int(size_match.group(1)) if size_match else 0,
                scrubbed_url=url,
            )
        )
        return ""

    text = _scrubbed_sub(record, text)
    return text.rstrip() if found else text, found


_RULE_START = "-" * 10


def _scrubbed_sub(record: Callable[[re.Match[str]], str], text: str) -> str:
    """`_SCRUBBED.sub(record, text)`, without trying the pattern at every position of the
    body: a notice starts at the very beginning or on a line of ten dashes or more, so the
    search starts at the first such line (after a notice at the beginning, if any)."""
    matches: list[re.Match[str]] = []
    head = _SCRUBBED.match(text)
    if head is not None:
        matches.append(head)
    dashes = text.find(_RULE_START)
    if dashes >= 0:
        start = max(text.rfind("\n", 0, dashes) + 1, head.end() if head is not None else 0)
        matches.extend(_SCRUBBED.finditer(text, start))
    if not matches:
        return text
    kept: list[str] = []
    end = 0
    for match in matches:
        kept.append(text[end : match.start()])
        kept.append(record(match))
        end = match.end()
    kept.append(text[end:])
    return "".join(kept)


_HASH_WORD = re.compile(r"[^\W_]+")
_HASH_SKIP = frozenset({"at", "a"})
_HASH_SKIP_BYTES = frozenset(word.encode("ascii") for word in _HASH_SKIP)
_HASH_TABLE = bytes(
    byte if chr(byte).isalnum() and byte < 0x80 else 0x20 for byte in range(256)
).lower()


def normalise_for_hash(body: str, footers_removed: bool = False) -> str:
    """Body text for fingerprints: footers removed, then only its words, lower-cased.

    Archives rewrite a message's text in small ways: pipermail writes addresses as
    `user at host`, HyperKitty's export as `user(a)host`, some unwrap or re-indent lines.  The
    words survive, so the fingerprint keeps only them (minus the `at`/`a` such rewrites add)."""
    text = body if footers_removed else strip_footers(body)
    return hash_words(text)


def hash_words(text: str) -> str:
    """The ASCII words of `text`, lower-cased, for fingerprints.

    Re-archiving loses characters: pipermail copies of one message have `Ursprüngliche` in one
    and `Urspr?ngliche` in the other.  Dropping `?` and every non-ASCII character makes both
    `ursprngliche`; two different messages would still need the same Message-ID, date and
    subject to collide."""
    # = the ASCII runs of `[^\W_]+` of `text` lower-cased without "?" and the skip words,
    # done in C: bytes.translate (lower-case, "?" deleted, every other non-alphanumeric byte
    # a space), split, filterfalse (a third of a message's parse time went here before)
    data = text.encode("ascii", "ignore")
    words = data.translate(_HASH_TABLE, b"?").split()
    return b" ".join(filterfalse(_HASH_SKIP_BYTES.__contains__, words)).decode("ascii")
