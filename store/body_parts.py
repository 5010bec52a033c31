"""How a stored body splits into the author's own text, the quoted text and the signature.

The store keeps a message's `body` once; its parts (`StoredMessage.body_own`, `body_quoted`)
are derived from it when read (issue 14, store size: they were two more copies of the text).
The parser (`ingest.parse`) uses the same rules, so what is read back is what was parsed (the
body is stored as `ingest.quotes.strip_scrubbed` left it, footers included).

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
from typing import NamedTuple

__all__ = ["BodyParts", "split_body", "strip_footers"]

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


class BodyParts(NamedTuple):  # not a dataclass: a tenth of the cost to import (issue 14)
    own: str
    quoted: str
    signature: str


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
