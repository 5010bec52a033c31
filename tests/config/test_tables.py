"""`[lists.NAME]` tables (config.tables, one parser for every source kind since task CL3 /
D12): each kind's record and each refusal, as before the merge of the per-kind branches."""

from __future__ import annotations

from typing import Any

import pytest

from config.errors import ConfigError
from config.tables import ListConfig, parse_lists

URL = "https://lists.example.org/pipermail/a/"
KITTY = "https://lists.example.org/archives/"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"pipermail": URL, "allow_origins": ["https://old.example.org"], "schedule": "6h"},
            ListConfig(
                "a", "pipermail", url=URL, schedule="6h", allow_origins=("https://old.example.org",)
            ),
        ),
        (
            {"hyperkitty": KITTY, "address": " a@lists.example.org ", "community": "c"},
            ListConfig("a", "hyperkitty", url=KITTY, community="c", address="a@lists.example.org"),
        ),
        ({"mbox": "one.mbox"}, ListConfig("a", "mbox", paths=("one.mbox",))),
        (
            {"mbox": ["1.mbox", "2.mbox"], "address": "a@x.example"},
            ListConfig("a", "mbox", paths=("1.mbox", "2.mbox"), address="a@x.example"),
        ),
        ({"maildir": "dir"}, ListConfig("a", "maildir", paths=("dir",))),
        (  # pipermail first, as it always was
            {"pipermail": URL, "hyperkitty": KITTY, "mbox": "x"},
            ListConfig("a", "pipermail", url=URL),
        ),
    ],
)
def test_each_kind(spec: dict[str, Any], expected: ListConfig) -> None:
    assert parse_lists({"a": spec}, "f.toml") == (expected,)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"hyperkitty": KITTY}, "`hyperkitty = URL` needs `address = LIST@DOMAIN`"),
        ({"hyperkitty": "ftp://x"}, "lists.a.hyperkitty"),
        ({"pipermail": "nope"}, "lists.a.pipermail"),
        ({"mbox": "x", "maildir": "y"}, "`mbox` or `maildir`, not both"),
        ({"mbox": "x", "allow_origins": ["https://o.example"]}, "only for pipermail"),
        ({"pipermail": URL, "address": "no-at"}, "lists.a.address in f.toml: expected"),
        ({"community": "c"}, "needs `pipermail = URL`, `mbox = [...]`, `maildir = DIR`"),
    ],
)
def test_each_refusal(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_lists({"a": spec}, "f.toml")
