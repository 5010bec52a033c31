"""Snippets from words found and stemmed once each (`search.snippets._words`, `_spans`) are
the snippets of the previous code, which stemmed every word and found every span with the
word pattern: checked against that code, kept here, on texts built to find the differences
(ASCII and not, separators of every kind, underscores, words stemming to nothing, phrases
of several words and running past the end, windows past the head and past `_SKIP`)."""

from __future__ import annotations

import random
import re
from bisect import bisect_left

import pytest

from search import snippets
from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from search.snippets import SNIPPET_HEAD, make_snippet
from search.textprep import fold, stem, stem_words

_WORD = re.compile(r"[^\W_]+")


def _old_window(
    text: str, phrases: tuple[tuple[str, ...], ...], words: int
) -> tuple[int, list[tuple[int, int, int]], int, bool] | None:
    """`search.snippets._window` before the words were found and stemmed once each."""
    if text.isascii():
        stems = stem_words(text)
    else:
        stems = [stem(fold(word)) for word in _WORD.findall(text)]
    by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for number, phrase in enumerate(phrases):
        by_first.setdefault(phrase[0], []).append((number, phrase))
    matches: list[tuple[int, int, int]] = []
    for position, word in enumerate(stems):
        for number, phrase in by_first.get(word, ()):
            if tuple(stems[position : position + len(phrase)]) == phrase:
                matches.append((position, len(phrase), number))
    if not matches:
        return None
    starts = [m[0] for m in matches]
    best, best_score = 0, (-1, -1)
    context = words // 4
    for first, _, _ in matches:
        begin = max(0, first - context)
        inside = matches[bisect_left(starts, begin) : bisect_left(starts, begin + words)]
        score = (len({m[2] for m in inside if m[0] + m[1] <= begin + words}), -begin)
        if score > best_score:
            best, best_score = begin, score
            if score[0] == len(phrases):
                break
    return len(stems), matches, best, best_score[0] == len(phrases)


def _old_render(
    text: str, found: tuple[int, list[tuple[int, int, int]], int, bool], words: int, cut: bool
) -> str:
    total, matches, best, _ = found
    end = min(total, best + words)
    spans: list[tuple[int, int]] = []
    for match in _WORD.finditer(text):
        spans.append(match.span())
        if len(spans) == end:
            break
    starts = [m[0] for m in matches]
    pieces: list[str] = ["… "] if best > 0 else []
    position = spans[best][0]
    for first, length, _ in matches[bisect_left(starts, best) :]:
        if first + length > end:
            break
        if spans[first][0] < position:
            continue
        pieces.append(text[position : spans[first][0]])
        pieces.append(HIGHLIGHT_START + text[spans[first][0] : spans[first + length - 1][1]])
        pieces.append(HIGHLIGHT_END)
        position = spans[first + length - 1][1]
    last = end < total
    pieces.append(text[position : spans[end - 1][1]] if last else text[position:])
    if last or cut:
        pieces.append(" …")
    return " ".join("".join(pieces).split())


def _old_snippet(
    text: str, phrases: tuple[tuple[str, ...], ...], cut: bool, words: int = 32
) -> str | None:
    """`make_snippet` before (its head first, as now)."""
    if not phrases or not text:
        return None
    if len(text) > SNIPPET_HEAD:
        stop = re.compile(r"[\W_]").search(text, SNIPPET_HEAD)
        if stop is not None:
            head = text[: stop.start()]
            found = _old_window(head, phrases, words)
            if found is not None and found[3] and found[2] + words < found[0]:
                return _old_render(head, found, words, cut)
    found = _old_window(text, phrases, words)
    return None if found is None else _old_render(text, found, words, cut)


WORDS = (
    "reactor reactors Reacting deferred Deferreds callback call_back errback s is as ies "
    "python3 2.5.0 twisted-python@twistedmatrix.com ERR_PTR(-EPROBE_DEFER) x y z"
).split()
ACCENTED = "réacteur Déféré naïve ﬁle straße ÉCOLE 東京 ǅungla Ωmega café".split()
SEPARATORS = [" ", "  ", "\n", "\t", ", ", ". ", "_", "__", "-", "/", "->", " (", ") ", "\x0c", "'"]


def _text(rng: random.Random, words: int, accented: bool) -> str:
    vocabulary = WORDS + (ACCENTED if accented else [])
    pieces = []
    for _ in range(words):
        pieces.append(rng.choice(vocabulary))
        pieces.append(rng.choice(SEPARATORS))
    return rng.choice(["", " ", "_", "--"]) + "".join(pieces)


def _phrases(rng: random.Random) -> tuple[tuple[str, ...], ...]:
    found: dict[tuple[str, ...], None] = {}
    for _ in range(rng.randint(1, 3)):
        words = [rng.choice(WORDS + ACCENTED) for _ in range(rng.choice((1, 1, 2, 3)))]
        stems = tuple(stem(fold(w)) for text in words for w in _WORD.findall(text))
        if stems:
            found.setdefault(stems, None)
    return tuple(found) or (("reactor",),)


@pytest.mark.parametrize("seed", range(12))
def test_snippets_equal_the_previous_code(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        words = rng.choice((1, 5, 40, 300, 700, 2500))
        text = _text(rng, words, accented=rng.random() < 0.3)
        phrases = _phrases(rng)
        cut = rng.random() < 0.5
        assert make_snippet(text, phrases, cut=cut) == _old_snippet(text, phrases, cut)


@pytest.mark.parametrize("skip", [1, 7, 64, 1024])
def test_a_window_far_in_a_long_text_equals_the_previous_code(
    skip: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single match past the head and past many pieces of `_SKIP` characters, at every
    offset around a piece's end (the words before it counted by pieces)."""
    monkeypatch.setattr(snippets, "_SKIP", skip)
    rng = random.Random(skip)
    filler = [w for w in WORDS if stem(fold(w)) != "defer" and "defer" not in w.lower()]
    phrases = ((stem("deferred"),),)
    for before in range(300, 340):
        pieces = [rng.choice(filler) + rng.choice(SEPARATORS) for _ in range(before)]
        text = "".join(pieces) + "Deferred" + "".join(pieces[:50])
        for cut in (False, True):
            assert make_snippet(text, phrases, cut=cut) == _old_snippet(text, phrases, cut)
