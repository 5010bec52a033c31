"""Parsing meeting participant lists as published in meeting summaries.  Pure functions.

Two published forms are recognised (both appear in the forum's summaries):

- one name per line after a heading that names the participants ("Annex I – Participants
  List", "Participants", "Attendees:"), up to the end of the list (a line that reads like a
  sentence or a new annex);
- a sentence "List of participants: *A. Wylde, Ababacar Diop, ..., Wout de Natris.*" (names
  separated by commas, semicolons or "and"; emphasis markers and the final full stop dropped).

A file with neither heading is read as one name per line.  In the one-name-per-line form a `;`
separates names ("Jane Doe; John Roe"), a comma does not ("Kulesza, Joanna" is one name).
Entries keep what follows the name ("Markus Kummer (Facilitator)"): `store.names.name_key`
ignores parenthesised remarks and titles, so matching is unaffected.  A leading role label of
one or two words ("Chair: Wout de Natris", "IGF Secretariat: Eleonora Mazzucchi") becomes such
a remark ("Wout de Natris (Chair)") when what follows looks like a name (it starts with a capital
letter).  Duplicates are kept here (the importer merges equal name keys).
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(
    r"^[ \t]*(?:the[ \t]+)?(?:list[ \t]+of[ \t]+)?(?:participants|attendees|attendance)"
    r"(?:[ \t]+list)?[ \t]*:[ \t]*(?P<names>\S.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADING_WORD = re.compile(r"\b(?:participants?|attendees?|attendance)\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·–]\s+|\d{1,3}[.)]\s+)")
_MARKUP = re.compile(r"[*_]+")
_SPLIT = re.compile(r"\s*[,;]\s*|\s+and\s+", re.IGNORECASE)
_STOP = re.compile(r"^\s*(?:annex|appendix)\b", re.IGNORECASE)
_WORD = r"[^\W\d_][\w.&'’-]*"
_ROLE = re.compile(rf"^(?P<role>{_WORD}(?:[ \t]+{_WORD})?)[ \t]*:[ \t]*(?P<rest>[^\W\d_].*)$")
MAX_WORDS = 8


def clean_entry(text: str) -> str:
    """One participant entry without bullets, emphasis, a trailing full stop or extra spaces."""
    text = _MARKUP.sub("", _BULLET.sub("", text))
    text = " ".join(text.split()).strip(" ,;")
    if text.endswith(".") and not re.search(r"(?:^|\s)\w\.$", text):
        text = text[:-1].rstrip()  # "Wout de Natris." but not "John K."
    return text


def move_role(entry: str) -> str:
    """A leading role label of one or two words becomes a remark when what follows looks like
    a name (a capital first): "Chair: Wout de Natris" gives "Wout de Natris (Chair)"."""
    found = _ROLE.match(entry)
    if not found or not found["rest"][0].isupper() or not looks_like_name(found["rest"]):
        return entry
    return f"{found['rest']} ({found['role']})"


def _split_semicolons(line: str) -> list[str]:
    """`line` split at each `;` outside parentheses ("A (Chair; Host); B" is two parts)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(line):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        elif char == ";" and depth == 0:
            parts.append(line[start:i])
            start = i + 1
    return [*parts, line[start:]]


def looks_like_name(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= MAX_WORDS
        and "@" not in text
        and "://" not in text
        and not text.endswith(":")
        and any(c.isalpha() for c in text)
    )


def parse_sentence(text: str) -> list[str] | None:
    """The names of a "List of participants: A, B, C." sentence, or None without one."""
    found = _SENTENCE.search(text)
    if not found:
        return None
    parts = _SPLIT.split(_MARKUP.sub("", found["names"]))
    entries = [move_role(clean_entry(part)) for part in parts]
    return [e for e in entries if looks_like_name(e)]


def _is_heading(line: str) -> bool:
    stripped = line.strip().rstrip(":").strip()
    return bool(_HEADING_WORD.search(stripped)) and len(stripped.split()) <= 6


def parse_lines(text: str) -> list[str]:
    """One name per line: after a participants heading when there is one, else every line
    that looks like a name."""
    lines = text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if _is_heading(line)), None)
    names: list[str] = []
    for line in lines[start or 0 :]:
        for part in _split_semicolons(line):
            entry = move_role(clean_entry(part))
            if not entry:
                continue
            if start is not None and (_STOP.match(entry) or not looks_like_name(entry)):
                if names:
                    return names
                continue
            if looks_like_name(entry):
                names.append(entry)
    return names


def parse_participants(text: str) -> list[str]:
    """Participant entries of a meeting summary (or of a plain list), in published order."""
    sentence = parse_sentence(text)
    if sentence:
        return sentence
    return parse_lines(text)
