"""Snippets looked for in a body's head first (`search.snippets.SNIPPET_HEAD`) are the snippets
of the whole body: checked against the same function with the head as long as the text."""

from __future__ import annotations

import random

import pytest

from search import snippets
from search.snippets import SNIPPET_HEAD, make_snippet
from search.textprep import fold, stem

FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()


def _phrases(*texts: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(stem(fold(word)) for word in text.split()) for text in texts)


def _body(rng: random.Random, words: int) -> list[str]:
    return [rng.choice(FILLER) for _ in range(words)]


def _head_words(body: list[str]) -> int:
    """The index of the word at the head's end."""
    length = 0
    for number, word in enumerate(body):
        length += len(word) + 1
        if length > SNIPPET_HEAD:
            return number
    return len(body)


def _whole(text: str, phrases: tuple[tuple[str, ...], ...], cut: bool) -> str | None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snippets, "SNIPPET_HEAD", len(text) + 1)
        return make_snippet(text, phrases, cut=cut)


@pytest.mark.parametrize("seed", range(40))
def test_the_head_gives_the_whole_body_s_snippet(seed: int) -> None:
    rng = random.Random(seed)
    body = _body(rng, rng.choice([600, 1000, 3000]))  # ~6 characters a word: past the head
    head = _head_words(body)
    places = [rng.randrange(len(body)) for _ in range(rng.randint(1, 4))]
    places += [head + rng.choice([-40, -33, -3, 0, 3])]  # windows ending at the head's end
    for place in places:
        body[place] = rng.choice(["reactor", "deferred", "connection lost"])
    text = " ".join(body)
    assert len(text) > SNIPPET_HEAD
    phrases = _phrases(*rng.sample(["reactor", "deferred", "connection lost", "never"], 2))
    for cut in (False, True):
        assert make_snippet(text, phrases, cut=cut) == _whole(text, phrases, cut)


def test_a_late_match_is_found_past_the_head() -> None:
    text = " ".join(["filler"] * 2000 + ["reactor", "stops"])
    found = make_snippet(text, _phrases("reactor"))
    assert found is not None and "\x02reactor\x03 stops" in found


@pytest.mark.parametrize("before_end", [1, 5, 20, 30])
def test_a_window_running_past_the_head_is_made_from_the_whole_body(before_end: int) -> None:
    body = _body(random.Random(before_end), 1000)
    head = _head_words(body)
    body[head - before_end] = "reactor"
    body[head - before_end + 1] = "deferred"
    text = " ".join(body)
    phrases = _phrases("reactor", "deferred")
    found = make_snippet(text, phrases)
    assert found == _whole(text, phrases, False)
    assert found is not None and found.count(" ") == 32 + 1  # "… " + 32 words + " …"


@pytest.mark.parametrize("before_end", range(1, 42))
def test_every_window_end_near_the_head_s_end_gives_the_whole_body_s_snippet(
    before_end: int,
) -> None:
    """Windows ending just before, at and just after the head's last word: the head's window
    is taken only when words of the head follow it (otherwise the ellipsis would differ)."""
    body = _body(random.Random(100 + before_end), 1000)
    head = _head_words(body)
    body[head - before_end] = "reactor"
    text = " ".join(body)
    phrases = _phrases("reactor")
    assert make_snippet(text, phrases) == _whole(text, phrases, False)


@pytest.mark.parametrize("late", [0, 50, 400])
def test_a_head_without_every_phrase_does_not_decide(late: int) -> None:
    """The head holds one phrase only; a window past it holds both: that one is the snippet."""
    body = _body(random.Random(late), 1200)
    head = _head_words(body)
    body[10] = "reactor"
    body[head + 5 + late] = "reactor"
    body[head + 8 + late] = "deferred"
    text = " ".join(body)
    phrases = _phrases("reactor", "deferred")
    found = make_snippet(text, phrases)
    assert found == _whole(text, phrases, False)
    assert found is not None and "\x02deferred\x03" in found
