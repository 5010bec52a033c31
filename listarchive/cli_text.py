"""Wording of the CLI's output: counts with the right plural, one way everywhere."""

from __future__ import annotations

_IRREGULAR = {"person": "persons", "is": "are", "was": "were", "has": "have"}


def plural(count: int | None, word: str, many: str = "") -> str:
    """`1 post`, `2 posts`, `0 posts`; `many` when the plural is not `word` + s (a word ending
    in s, x, ch or sh gets es: `1 match`, `2 matches`)."""
    n = count or 0
    if n == 1:
        return f"{n} {word}"
    if not many:
        if word in _IRREGULAR:
            many = _IRREGULAR[word]
        elif word.endswith(("s", "x", "ch", "sh")):
            many = word + "es"
        else:
            many = word + "s"
    return f"{n} {many}"
