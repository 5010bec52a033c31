"""Plain-text body surgery: pipermail scrub notices, list footers, quotes and signatures.

`split_body` separates what the author wrote (`own`) from quoted text (`quoted`, one level of
`>` removed) and the signature:

* quoted lines start with `>` after optional whitespace; the attribution line(s) right before
  a quote block (`On ... wrote:`, `X writes:`, ...) are dropped from `own`;
* everything after an Outlook `-----Original Message-----` separator counts as quoted;
* the signature starts after a line that is exactly `-- ` or `--`;
* Mailman list footers (a line of underscores followed by a `... mailing list` line) and ASF
  ezmlm footers (`To unsubscribe, e-mail: ...`) are removed from `own` and the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import filterfalse

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

_FOOTER_RULE = re.compile(r"[ \t]*(?:_{10,}|-- ?)[ \t\r]*")
_LIST_LINE = re.compile(r"[^\n]{0,80}\bmailing list[ \t\r]*", re.IGNORECASE)
_EZMLM_RULE = re.compile(r"-{20,}[ \t\r]*")  # ezmlm/ASF: rule, notes, `To unsubscribe, ...`
_ATTRIBUTION_END = re.compile(
    r"(wrote|writes|said|says|schrieb|scripsit|escribió|a écrit|ha scritto|написал|napsal\(a\)|"
    r"skrev|kirjoitti|napisał|escreveu|schreef)\s*:?\s*$|^(on|am|le|el|il)\b.*:\s*$"
    r"|^quoting .*:\s*$|(\d:\d\d|@|>).*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(on|am|le|el|il|em)\s", re.IGNORECASE)
# Patterns start with a literal "\n" (searched in "\n" + text): much faster than ^/MULTILINE.
_ORIGINAL = re.compile(
    r"\n[ \t]*-{3,}[ \t]*(?:original|forwarded|ursprüngliche|weitergeleitete)\b[^-\n]*-{3,}[ \t]*"
    r"(?=\n|\Z)",
    re.IGNORECASE,
)
_OUTLOOK = re.compile(
    r"\n[ \t]*\*?(?:from|von|de):\*?[ \t][^\n]*\n[ \t]*\*?(?:sent|date|gesendet|envoyé):",
    re.IGNORECASE,
)
_QUOTE_BLOCK = re.compile(r"\n[ \t]*>[^\n]*(?:\n[ \t]*>[^\n]*)*")
_QUOTE_PREFIX = re.compile(r"\n[ \t]*> ?")
_SIG_DELIMITER = re.compile(r"\n--[ ]?\r?(?=\n)")
_RULE = re.compile(r"\s*(?:_{5,}|-{5,})\s*")
_BLANKS = re.compile(r"\n[ \t\r]*\n(?:[ \t\r]*\n)+")


@dataclass(frozen=True, slots=True)
class BodyParts:
    own: str
    quoted: str
    signature: str


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

    text = _SCRUBBED.sub(record, text)
    return text.rstrip() if found else text, found


def _cut_footer(text: str, marker: str, is_rule: re.Pattern[str], lines_up: int = 1) -> str:
    """Cut `text` at the rule line at most `lines_up` lines above the last `marker` line."""
    index = text.rfind(marker)
    if index < 0:
        return text
    line_start = text.rfind("\n", 0, index) + 1
    if text.count("\n", line_start) > 6:  # a footer is short and at the very end
        return text
    for _ in range(lines_up):
        if line_start == 0:
            return text
        rule_start = text.rfind("\n", 0, line_start - 1) + 1
        if is_rule.fullmatch(text[rule_start : line_start - 1]):
            return text[:rule_start].rstrip("\n")
        line_start = rule_start
    return text


def strip_footers(text: str) -> str:
    """Remove trailing Mailman (`____` / `-- ` + `X mailing list`) and ezmlm footers."""
    if "mailing list" in text:
        cut = _cut_footer(text, "mailing list", _FOOTER_RULE)
        if cut is not text:
            line = text[len(cut) :].lstrip("\n").split("\n", 2)[1:2]
            if line and _LIST_LINE.fullmatch(line[0]):
                text = cut
    if "To unsubscribe" in text:
        text = _cut_footer(text, "To unsubscribe, e-mail:", _EZMLM_RULE, lines_up=4)
    return text


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


def _tidy(text: str) -> str:
    if "\n\n" in text:
        text = _BLANKS.sub("\n\n", text)
    return text.lstrip("\n").rstrip()


def _needs_split(text: str) -> bool:
    return ">" in text or "--" in text or ":" in text and _OUTLOOK.search(text) is not None


def _without_attribution(text: str) -> str:
    """`text` minus the attribution line(s) at its end (it is followed by a quote block)."""
    body = text.rstrip()
    head, _, last = body.rpartition("\n")
    if not _ATTRIBUTION_END.search(last.strip()):
        return text
    if not _ATTRIBUTION_START.match(last) and head:
        before, _, previous = head.rpartition("\n")
        previous = previous.strip()
        if previous and _ATTRIBUTION_START.match(previous) and len(previous) < 200:
            return before
    return head


def _own_and_signature(segment: str, in_signature: bool) -> tuple[str, str, bool]:
    """Split one unquoted segment (starting with "\n") at the signature delimiter, once."""
    if in_signature:
        return "", segment, True
    if "\n--" not in segment:
        return segment, "", False
    match = _SIG_DELIMITER.search(segment + "\n")
    if match is None:
        return segment, "", False
    return segment[: match.start()], segment[match.end() :], True


def split_body(body: str, footers_removed: bool = False) -> BodyParts:
    """Split a plain-text body into own text, quoted text and signature."""
    text = body if footers_removed else strip_footers(body)
    if not _needs_split(text):
        return BodyParts(own=text.strip("\n").rstrip(), quoted="", signature="")
    text = "\n" + text
    quoted: list[str] = []
    cut = _first_outlook_header(text)
    tail = ""
    if cut >= 0:
        text, tail = text[:cut], text[cut + 1 :]
    own: list[str] = []
    signature: list[str] = []
    in_signature = False
    pos = 0
    if ">" in text:
        for match in _QUOTE_BLOCK.finditer(text):
            segment = _without_attribution(text[pos : match.start()])
            mine, sig, in_signature = _own_and_signature(segment, in_signature)
            own.append(mine)
            signature.append(sig)
            quoted.append(_QUOTE_PREFIX.sub("\n", match.group(0)))
            pos = match.end()
    mine, sig, in_signature = _own_and_signature(text[pos:], in_signature)
    own.append(mine)
    signature.append(sig)
    if tail:
        quoted.append("\n" + tail)
    own_text = _tidy("".join(own))
    while own_text:
        head, _, last = own_text.rpartition("\n")
        if not _RULE.fullmatch(last):
            break
        own_text = head.rstrip()
    return BodyParts(
        own=own_text,
        quoted=_tidy("\n".join(quoted)),
        signature=_tidy("".join(signature)),
    )


def _first_outlook_header(text: str) -> int:
    """Offset of the "\n" before `-----Original Message-----` or an Outlook header, or -1."""
    found: list[int] = []
    if "---" in text:
        match = _ORIGINAL.search(text)
        if match:
            found.append(match.start())
    if ":" in text:
        match = _OUTLOOK.search(text)
        if match:
            found.append(match.start())
    return min(found) if found else -1
