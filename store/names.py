"""Normalising addresses and people's names for identity matching.  Pure functions.

- `normalize_address`: the same mailbox written differently (case, angle brackets, pipermail's
  `user at host`) gives the same string.  No provider-specific rules (no Gmail dot or `+tag`
  folding): two spellings that a mail server may treat differently are not strong evidence.
- `name_key`: accent-, case-, punctuation- and order-insensitive form of a full name
  ("Kulesza, Joanna" = "Joanna KULESZA" = "joanna kulesza"), used for suggestions only.
- `strip_via`: a DMARC-munged display name "Jane Doe via Some-List" gives "Jane Doe".
"""

from __future__ import annotations

import re
import unicodedata

_AT_FORM = re.compile(r"^\s*([^\s@()<>\"]+)\s+(?:at|\(at\)|\[at\])\s+([^\s@()<>\"]+)\s*$", re.I)
_VIA = re.compile(r"^(?P<name>.*?\S)\s+via\s+\S.*$", re.DOTALL)
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# words that say nothing about who someone is
_NOISE = frozenset({"dr", "mr", "mrs", "ms", "prof", "jr", "sr", "phd"})


def normalize_address(value: str) -> str:
    """`<Jane.Doe@Example.ORG>` and `jane.doe at example.org` give `jane.doe@example.org`."""
    text = value.strip().strip("<>").strip()
    match = _AT_FORM.match(text)
    if match:
        text = f"{match[1]}@{match[2]}"
    text = text.lower().rstrip(".")
    if text.startswith("mailto:"):
        text = text[len("mailto:") :]
    return text if "@" in text and " " not in text else ""


def looks_like_address(text: str) -> bool:
    """An address written where a name belongs (`jane@x.org`, pipermail's `jane at x.org`)."""
    return "@" in text or bool(_AT_FORM.match(text.strip()))


def strip_via(name: str) -> str:
    match = _VIA.match(name)
    return match["name"] if match else name


def fold(text: str) -> str:
    """Lower case without accents: "Klée" -> "klee", "Ørsted" -> "orsted"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("ø", "o").replace("Ø", "o").replace("ß", "ss").casefold()


def name_tokens(name: str) -> list[str]:
    """The words of a name, folded, without titles, quotes or parenthesised remarks."""
    text = _PARENS.sub(" ", strip_via(name.strip().strip("\"'")))
    if looks_like_address(text):  # an address used as a name says nothing about the name
        return []
    return [t for t in _TOKEN.findall(fold(text)) if t not in _NOISE]


def name_key(name: str) -> str:
    """Order-insensitive key: the sorted words.  Empty when the name has no usable words."""
    return " ".join(sorted(name_tokens(name)))


def is_full_name(name: str) -> bool:
    """Two or more words of which at least two are longer than an initial: strong enough to
    suggest that two addresses with this name may be one person."""
    return sum(1 for t in name_tokens(name) if len(t) > 1) >= 2


def initials_match(short: str, full: str) -> bool:
    """ "A. Wylde" matches "Alice Wylde": every word of `short` equals a word of `full` or is
    the initial of one, and at least one word is complete and longer than an initial."""
    shorts, fulls = name_tokens(short), name_tokens(full)
    if not shorts or not fulls or len(shorts) > len(fulls):
        return False
    remaining = list(fulls)
    whole = 0
    for token in sorted(shorts, key=len, reverse=True):
        if token in remaining:
            remaining.remove(token)
            whole += len(token) > 1
            continue
        hit = next((f for f in remaining if len(token) == 1 and f.startswith(token)), None)
        if hit is None:
            return False
        remaining.remove(hit)
    return whole >= 1
