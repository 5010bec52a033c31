"""Text preparation for the Elasticsearch backend, so that it matches like the embedded one.

The Elasticsearch distribution we can run everywhere has only the core analysers (no stemmer,
no accent folding), so prose is folded and stemmed here, with the same Porter stemmer as SQLite
FTS5's `porter` tokenizer and the same letter/digit word split as its `unicode61` tokenizer:
the `*_stem` fields hold the stems separated by spaces.  Identifiers that must be findable whole
(addresses, URLs, versions, dotted names, CVE-style ids) are extracted into a keyword field.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from search.query import split_words

_STEMMER = Stemmer.Stemmer("porter", 100_000)


@lru_cache(maxsize=1)
def _identifier() -> re.Pattern[str]:
    """Compiled when first used (Elasticsearch indexing): a search from the shell never needs
    it (issue 14, CLI start-up)."""
    return re.compile(
        r"(?:[a-z][a-z0-9+.-]*://[^\s<>\"')\]]+)"  # URLs
        r"|(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"  # addresses
        r"|(?:\b\w+(?:[.\-/:]\w+)+\b)",  # versions, dotted names, CVE-2021-33038, a/b paths
        re.IGNORECASE,
    )


def fold(text: str) -> str:
    """Lower-case and remove diacritics (what unicode61 remove_diacritics does)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def stem_words(text: str) -> list[str]:
    words: list[str] = _STEMMER.stemWords(split_words(fold(text)))
    return words


def stem_text(text: str) -> str:
    """The text as space-separated folded stems (indexed with the plain standard analyser)."""
    return " ".join(stem_words(text))


def identifiers(*texts: str) -> list[str]:
    """Distinct punctuated identifiers in the texts, lower-cased, in order of appearance.

    Whitespace-separated tokens holding a separator are checked one by one: much faster than
    running the identifier pattern over whole message bodies."""
    found: dict[str, None] = {}
    pattern = _identifier()
    for text in texts:
        for token in text.split():
            if "." in token or "@" in token or "/" in token or ":" in token or "-" in token:
                match = pattern.search(token)
                if match is not None:
                    value = match.group(0).rstrip(".,;:!?").lower()
                    if 2 < len(value) <= 256:
                        found.setdefault(value, None)
    return list(found)
