"""Bounded text for the search backends: what is indexed of a message, and snippets.

A message body can be as big as the store holds (64 MiB by `sync.max_message_bytes`; more for
messages stored before that limit).  Two bounds keep a search's cost independent of it:

* `TextLimits.max_indexed_bytes` (``search.max_indexed_bytes``): the indexed text of one
  message is its subject, its own text and then its quoted text, cut (at a word boundary) so
  that the two bodies together hold at most that many UTF-8 bytes; words beyond are not
  searchable.  Both backends index the same prefix.
* `TextLimits.max_snippet_bytes` (``search.max_snippet_bytes``): snippets are made from at most
  that many bytes at the start of each body.  SQLite FTS5's own ``snippet()`` costs time
  quadratic in the column's length (1.4 s for one 1 MiB body, 24 s for 4 MiB, minutes for
  16 MiB: measured), so the embedded backend makes snippets here instead, in one linear pass
  over the bounded prefix (`make_snippet`); Elasticsearch is asked to highlight only that many
  characters (``max_analyzed_offset``), which also keeps it from refusing documents longer than
  its ``index.highlight.max_analyzed_offset`` (1,000,000) with a 400.  A match found beyond the
  prefix gives the first words of the body, unhighlighted.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from search.query import HIGHLIGHT_END, HIGHLIGHT_START, And, Node, Or, Query, Term
from search.textprep import fold, stem

if TYPE_CHECKING:  # a search makes no IndexDoc (issue 14)
    from search.index_doc import IndexDoc

SNIPPET_WORDS = 32
"""Words in a snippet window (as FTS5 ``snippet()`` was asked for)."""
ES_MAX_ANALYZED_OFFSET = 1_000_000
"""Elasticsearch's default ``index.highlight.max_analyzed_offset``: a request asking to
highlight more characters than this is refused, so the bound sent is never more."""

_WORD = re.compile(r"[^\W_]+")
_SPACED = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
"""Every ASCII character but letters and digits made a space (`_words`)."""
_SKIP = 1024
"""Characters of a text whose words `_spans` counts at once before the window."""
_TRAILING_WORD = re.compile(r"[^\W_]+\Z")
_NOT_WORD = re.compile(r"[\W_]")
SNIPPET_HEAD = 2048
"""Characters of a body a snippet is first looked for in (`make_snippet`)."""


class TextLimits(NamedTuple):  # not a dataclass: cheaper to import (issue 14)
    """Bounds on the text a backend indexes and makes snippets from (settings
    ``search.max_indexed_bytes`` and ``search.max_snippet_bytes``)."""

    max_indexed_bytes: int = 1024 * 1024
    """UTF-8 bytes of body text indexed per message (own text first, then quoted text)."""
    max_snippet_bytes: int = 32 * 1024
    """UTF-8 bytes at the start of each body that snippets are made from."""


DEFAULT_TEXT_LIMITS = TextLimits()


def cut_utf8(text: str, max_bytes: int, *, whole_words: bool = False) -> str:
    """The longest prefix of `text` that is at most `max_bytes` bytes in UTF-8 (never a cut
    character); with `whole_words`, a word cut in two is left out as well."""
    if max_bytes <= 0:
        return ""
    if len(text) * 4 <= max_bytes:  # cannot be longer, whatever its characters
        return text
    head = text[:max_bytes]
    data = head.encode("utf-8", "surrogatepass")
    if len(head) == len(text) and len(data) <= max_bytes:
        return text
    cut = data[:max_bytes].decode("utf-8", "ignore")
    if whole_words and len(cut) < len(text) and _WORD.match(text, len(cut)):
        partial = _TRAILING_WORD.search(cut)
        if partial is not None:
            cut = cut[: partial.start()]
    return cut


def bounded_bodies(own: str, quoted: str, limits: TextLimits) -> tuple[str, str]:
    """The own and quoted text cut to what is indexed (see the module doc)."""
    budget = limits.max_indexed_bytes
    own = cut_utf8(own, budget, whole_words=True)
    rest = budget - (len(own) if own.isascii() else len(own.encode("utf-8", "surrogatepass")))
    return own, cut_utf8(quoted, rest, whole_words=True)


def bounded_doc(doc: IndexDoc, limits: TextLimits) -> IndexDoc:
    """`doc` with its subject and bodies cut to what is indexed (see the module doc)."""
    own, quoted = bounded_bodies(doc.body_own, doc.body_quoted, limits)
    subject = cut_utf8(doc.subject, limits.max_indexed_bytes, whole_words=True)
    if own is doc.body_own and quoted is doc.body_quoted and subject is doc.subject:
        return doc
    return replace(doc, subject=subject, body_own=own, body_quoted=quoted)


def highlight_phrases(query: Query) -> tuple[tuple[str, ...], ...]:
    """The stems of each positive text term of `query` (a phrase: several, in order)."""
    found: dict[tuple[str, ...], None] = {}
    stack: list[Node] = list(query.terms)
    while stack:  # a loop: the AST is as deep as the parentheses allow
        node = stack.pop()
        if isinstance(node, Term):
            stems = tuple(stem(fold(word)) for word in node.words)
            if stems:
                found.setdefault(stems, None)
        elif isinstance(node, And | Or):
            stack.extend(node.items)
    return tuple(found)


def lead(text: str, words: int = SNIPPET_WORDS) -> str:
    """The first `words` words of `text` on one line, with an ellipsis if cut."""
    parts = text.split(maxsplit=words)
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


class _Window(NamedTuple):
    words: int
    """How many words the text has."""
    matches: list[tuple[int, int, int]]
    """(first word, words, phrase number) of each match, in order."""
    best: int
    """The window's first word."""
    complete: bool
    """The window holds every phrase (no window can do better)."""
    spaced: str | None
    """An ASCII text lower-cased with every character between words a space (`_SPACED`),
    which `_spans` counts words in; None for another text."""


def _words(text: str) -> tuple[list[str], str | None]:
    """The words of `text` folded (as `_WORD` finds them), and the text spaced (`_Window`).

    An ASCII text's words are its letters and digits: every other character made a space,
    they are split at the spaces (~30 times faster than the pattern, which tests each
    character's Unicode category)."""
    if text.isascii():
        spaced = text.lower().translate(_SPACED)
        return spaced.split(), spaced
    return [fold(word) for word in _WORD.findall(text)], None


def _window(text: str, phrases: tuple[tuple[str, ...], ...], words: int) -> _Window | None:
    """The first window of `words` words of `text` holding the most distinct `phrases`.

    Each distinct word is stemmed once and only the words whose stem begins a phrase are
    looked at (issue 14: the newest 20 matches of "deferred" at 1M are patches of ~17,000
    characters matching past the head, ~1.8 ms a snippet)."""
    found, spaced = _words(text)
    stem_of = {word: stem(word) for word in set(found)}
    by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for number, phrase in enumerate(phrases):
        by_first.setdefault(phrase[0], []).append((number, phrase))
    starting = {word for word, stemmed in stem_of.items() if stemmed in by_first}
    if not starting:
        return None
    matches: list[tuple[int, int, int]] = []  # (first word, words, phrase number)
    for position in [i for i, word in enumerate(found) if word in starting]:
        for number, phrase in by_first[stem_of[found[position]]]:
            following = found[position : position + len(phrase)]
            if tuple(stem_of[word] for word in following) == phrase:
                matches.append((position, len(phrase), number))
    starts = [m[0] for m in matches]
    best, best_score = 0, (-1, -1)
    context = words // 4
    for first, _, _ in matches:
        begin = max(0, first - context)
        inside = matches[bisect_left(starts, begin) : bisect_left(starts, begin + words)]
        score = (len({m[2] for m in inside if m[0] + m[1] <= begin + words}), -begin)
        if score > best_score:
            best, best_score = begin, score
            if score[0] == len(phrases):  # every phrase: no window can do better
                break
    if not matches:
        return None
    return _Window(len(found), matches, best, best_score[0] == len(phrases), spaced)


def _spans(text: str, spaced: str | None, first: int, end: int) -> list[tuple[int, int]]:
    """The spans of the words number `first` to `end` - 1 of `text` (`end` > `first`): the
    words before are counted by pieces of `_SKIP` characters cut at a space of `spaced`
    when there is one, then `_WORD` finds the rest from there."""
    position, seen = 0, 0
    while spaced is not None:
        stop = spaced.find(" ", position + _SKIP)
        if stop < 0:
            break
        count = len(spaced[position:stop].split())
        if seen + count > first:
            break
        position, seen = stop, seen + count
    spans: list[tuple[int, int]] = []
    for match in _WORD.finditer(text, position):
        if seen >= first:
            spans.append(match.span())
            if len(spans) == end - first:
                break
        seen += 1
    return spans


def make_snippet(
    text: str,
    phrases: tuple[tuple[str, ...], ...],
    *,
    cut: bool = False,
    words: int = SNIPPET_WORDS,
) -> str | None:
    """A window of `words` words of `text` holding the most distinct `phrases` (stems), with
    each match between `HIGHLIGHT_START` and `HIGHLIGHT_END`; None if none occurs.  `cut`
    says `text` is a prefix (the snippet then ends with an ellipsis).  One pass: the time is
    linear in the length of `text`, which the caller bounds.

    The first `SNIPPET_HEAD` characters (to the end of a word) are tried first (issue 14: a
    page of hits cost more in snippets than in SQL): a window there holding every phrase,
    with words after it, is the window of the whole text too (the first such window wins,
    and an earlier window scores the same on a prefix or less), so the snippet is the same."""
    if not phrases or not text:
        return None
    if len(text) > SNIPPET_HEAD:
        stop = _NOT_WORD.search(text, SNIPPET_HEAD)
        if stop is not None:
            head = text[: stop.start()]
            found = _window(head, phrases, words)
            if found is not None and found.complete and found.best + words < found.words:
                return _render(head, found, words, cut)
    found = _window(text, phrases, words)
    return None if found is None else _render(text, found, words, cut)


def _render(text: str, found: _Window, words: int, cut: bool) -> str:
    matches, best = found.matches, found.best
    end = min(found.words, best + words)
    spans = _spans(text, found.spaced, best, end)  # of the window's words: spans[k - best]
    starts = [m[0] for m in matches]
    pieces: list[str] = ["… "] if best > 0 else []
    position = spans[0][0]
    for first, length, _ in matches[bisect_left(starts, best) :]:
        if first + length > end:
            break
        if spans[first - best][0] < position:  # overlaps the previous match
            continue
        start, stop = spans[first - best][0], spans[first + length - 1 - best][1]
        pieces.append(text[position:start])
        pieces.append(HIGHLIGHT_START + text[start:stop])
        pieces.append(HIGHLIGHT_END)
        position = stop
    last = end < found.words
    pieces.append(text[position : spans[-1][1]] if last else text[position:])
    if last or cut:
        pieces.append(" …")
    return " ".join("".join(pieces).split())


def best_snippet(
    own: str, quoted: str, phrases: tuple[tuple[str, ...], ...], subject: str, max_bytes: int
) -> str:
    """The best window of the own text holding the query's words, else of the quoted text,
    else the own (or quoted) text's first words, else the subject; made from at most
    `max_bytes` of each body (the caller may pass more, or the whole body)."""
    texts = [cut_utf8(body, max_bytes, whole_words=True) for body in (own, quoted)]
    for body, text in zip((own, quoted), texts, strict=True):
        found = make_snippet(text, phrases, cut=len(text) < len(body) or len(body) >= max_bytes)
        if found is not None:
            return found
    return lead(texts[0]) or lead(texts[1]) or subject


def retag(fragment: str) -> str:
    """An Elasticsearch highlight fragment with the markers it trimmed put back: it trims a
    fragment like Java's ``String.trim`` (every character up to U+0020, so our control-character
    markers too) when a match begins or ends it."""
    first_end, first_start = fragment.find(HIGHLIGHT_END), fragment.find(HIGHLIGHT_START)
    if first_end >= 0 and (first_start < 0 or first_end < first_start):
        fragment = HIGHLIGHT_START + fragment
    if fragment.rfind(HIGHLIGHT_START) > fragment.rfind(HIGHLIGHT_END):
        fragment += HIGHLIGHT_END
    return fragment
