"""The address fast path (plain forms, no flanker) gives the flanker path's exact addresses
(task IN4): every From/To/Cc header of the corpus and random near-plain ones."""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import pytest

import ingest.addresses as addresses
from store.models import Address

_HEADER = re.compile(rb"^(?:From|To|Cc|Reply-To|Sender):[ \t]*(.*(?:\r?\n[ \t].*)*)", re.M | re.I)


def _full(value: str) -> tuple[Address, ...]:
    return addresses._parse_value.__wrapped__(value)


def _flanker_path(value: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Address, ...]:
    with monkeypatch.context() as patch:
        patch.setattr(addresses, "_plain_pairs", lambda value: None)
        return _full(value)


def _checked(values: set[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """How many of `values` the fast path took; each one's addresses as the flanker path's."""
    taken = 0
    for value in sorted(values):
        if addresses._plain_pairs(value.replace("\r", "").replace("\n", " ")) is None:
            continue
        taken += 1
        assert _full(value) == _flanker_path(value, monkeypatch), value
    return taken


def _headers(path: Path) -> set[str]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return {m.group(1).decode("utf-8", "replace") for m in _HEADER.finditer(data)}


def test_corpus_headers(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values: set[str] = set()
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and not path.name.endswith((".html", ".htm", ".md", ".tsv", ".sig")):
            values |= _headers(path)
    assert len(values) > 5000
    assert _checked(values, monkeypatch) > 1500


_ENCODED = ["=?utf-8?q?Zo=C3=AB?=", "=?iso-8859-1?Q?F=E4rber?=", "=?utf-8?b?w6k=?=", "=?x?q?a?="]
_NAME_CHARS = "aZ9'_+-/.!#$%&*=?^`{|}~\"\\()<>@,;: \t\u00e9"
_LOCAL_CHARS = "aZ9_+-.\"\\ ()!#$%&'*/=?^`{|}~\u00e9"
_DOMAIN_CHARS = "aZ9-._ \u00e9[]"


def _word(rng: random.Random, chars: str, plain: str, most: int) -> str:
    """Mostly `plain` characters, now and then one of `chars` (the edge of the plain forms)."""
    return "".join(
        rng.choice(chars) if rng.random() < 0.03 else rng.choice(plain)
        for _ in range(rng.randint(1, most))
    )


def _address(rng: random.Random) -> str:
    local = _word(rng, _LOCAL_CHARS, "abcXYZ019_+-", 8)
    labels = [_word(rng, _DOMAIN_CHARS, "abcXYZ019", 6) for _ in range(rng.randint(1, 3))]
    tld = rng.choice(["com", "org", "DE", "net", "c", "c0m", "xn--p1ai", "", "co-uk"])
    domain = ".".join([*labels, tld]) if tld else ".".join(labels)
    if rng.random() < 0.05:
        domain = rng.choice(["xn--bcher-kva.example", "[127.0.0.1]", "localhost"])
    return f"{local}@{domain}"


def _item(rng: random.Random) -> str:
    address = _address(rng)
    form = rng.randrange(4)
    if form == 0:
        return address
    gap = rng.choice([" ", " ", "", "  ", "\t", " \n "])
    words = [_word(rng, _NAME_CHARS, "abcXYZ019", 7) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.1:  # flanker decodes encoded words itself
        words[0] = rng.choice(_ENCODED)
    name = rng.choice([" ", " ", "  ", "\t", " \n\t"]).join(words)
    if form == 1:
        return f"{name}{gap}<{address}>"
    if form == 2:
        return f'"{name}"{gap}<{address}>'
    return f"<{address}>"


def test_random_near_plain_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(14)
    values: set[str] = set()
    for _ in range(8000):
        items = [_item(rng) for _ in range(rng.choice([1, 1, 2, 3]))]
        if rng.random() < 0.3 and len(items) > 1:  # the same address named in one item only
            items[-1] = f"Some Name <{items[0].rsplit('<', 1)[-1].rstrip('>')}>"
        sep = rng.choice([", ", ", ", ",", " ,\n\t", ",,", "; ", " "])
        values.add(rng.choice(["", " ", "\t"]) + sep.join(items) + rng.choice(["", "", " ", ","]))
    assert _checked(values, monkeypatch) > 1000
