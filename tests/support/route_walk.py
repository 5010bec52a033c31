"""Helpers of the walks over every GET route of the web app (`tests/webui/test_*_walk.py`):
each route's URLs from candidate values of its arguments, and what a response leaks."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import unquote

from werkzeug.test import TestResponse


def filled(rule: str, names: Sequence[str], values: Sequence[Sequence[str]]) -> Iterator[str]:
    """`rule` (`/messages/<key>/...`) with each combination of `values` (one list for each
    of the argument `names`) in place of its arguments."""
    for combo in itertools.product(*values):
        path = rule
        for name, value in zip(names, combo, strict=True):
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
        yield path


def leaks_in(response: TestResponse, url: str, endpoint: str, secrets: Iterable[str]) -> list[str]:
    """The `secrets` found (case-insensitively) in the body or headers of `response` to
    `url`, as `URL (ENDPOINT): 'secret'`; a secret the URL itself asked for is no leak."""
    text = (
        response.get_data(as_text=True)
        + "\n"
        + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    ).lower()
    asked = unquote(url).lower()
    return [
        f"{url} ({endpoint}): {secret!r}"
        for secret in secrets
        if secret.lower() not in asked and secret.lower() in text
    ]
