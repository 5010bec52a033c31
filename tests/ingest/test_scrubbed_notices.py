"""`strip_scrubbed` finds pipermail's scrubbed-attachment notices by searching from the first
line of dashes (issue 14, speed): the same notices, in the same order, as the plain
pattern applied over the whole body."""

from __future__ import annotations

import re

import pytest

from ingest import quotes

BODIES = [
    # a notice at the very beginning whose URL holds ten dashes, then a later one
    "An HTML attachment was scrubbed...\nURL: http://x/----------/a.htm\n"
    "-------------- next part --------------\nA non-text attachment was scrubbed...\n"
    "Name: a.png\nType: image/png\nSize: 12 bytes\n",
    "  \n An HTML attachment was scrubbed...\nURL: http://x/b.htm\n",
    # dashes inside a line before the separator line
    "text ---------- more\n-------------- next part --------------\n"
    "An HTML attachment was scrubbed...\nURL: http://x/c.htm",
    "----------next part----------\nAn embedded message was scrubbed...\nFrom: a\n",
    "no notice, only the words scrubbed... and ---------- dashes\n",
    "Hi\n\n-------------- next part --------------\nAn embedded and charset-unspecified "
    "text was scrubbed...\nName: d.txt\nURL: http://x/d.txt\n\n"
    "-------------- next part --------------\nAn HTML attachment was scrubbed...\n"
    "URL: http://x/e.htm\n",
]


def _plain(text: str) -> tuple[str, list[tuple[int, str]]]:
    found: list[tuple[int, str]] = []

    def record(match: re.Match[str]) -> str:
        found.append((match.start(), match.group(0)))
        return ""

    return quotes._SCRUBBED.sub(record, text), found


@pytest.mark.parametrize("body", BODIES)
def test_same_result_as_the_pattern_over_the_whole_body(body: str) -> None:
    found: list[tuple[int, str]] = []

    def record(match: re.Match[str]) -> str:
        found.append((match.start(), match.group(0)))
        return ""

    assert (quotes._scrubbed_sub(record, body), found) == _plain(body)


def test_notices_become_attachments_in_order() -> None:
    text, attachments = quotes.strip_scrubbed(BODIES[5])
    assert text == "Hi"
    assert [a.scrubbed_url for a in attachments] == ["http://x/d.txt", "http://x/e.htm"]
    assert attachments[0].filename == "d.txt"
