"""The rows' JSON columns: the shared encoder writes json.dumps's exact text (task IN4)."""

from __future__ import annotations

import json
import random
from typing import Any

from store.records import _json_list


def _reference(values: list[Any]) -> str:
    """The rows' JSON before task IN4."""
    return json.dumps(values, ensure_ascii=False) if values else "[]"


_ALPHABET = "aZ9 @.<>\"'\\/\t\n\r\x00\x1f\x7f\u00e9\u2028\u2029\u00a0\U0001f600\ud800\udfff"


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(12)))


def test_random_rows_encode_as_json_dumps() -> None:
    rng = random.Random(14)
    for _ in range(5000):
        values: list[Any] = [
            rng.choice(
                [
                    _text(rng),
                    [_text(rng), _text(rng)],
                    [_text(rng), _text(rng), rng.randrange(-5, 10**12), None],
                    [_text(rng), rng.random(), True, False],
                ]
            )
            for _ in range(rng.randrange(5))
        ]
        assert _json_list(values) == _reference(values), values


def test_non_ascii_kept_and_separators_as_dumps() -> None:
    values = [["Zoë \u2028", "z@example.org"], ["", "a@b"]]
    assert _json_list(values) == '[["Zoë \u2028", "z@example.org"], ["", "a@b"]]'
    assert _json_list([]) == "[]"
