"""Helpers for parser tests: read corpus files the way the sources hand messages over.

The corpus lives next to the repository (`../shared/corpus`, see `tests/conftest.py`); files are
read in place, never copied.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.parse import parse_message
from store.models import Message

REPO = Path(__file__).resolve().parents[2]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
PATHOLOGICAL = CORPUS / "pathological"

_FROM_LINE = re.compile(rb"\n(?=From \S.*\d\d:\d\d:\d\d \d{4}[ \t]*\r?\n)")


def split_file(path: Path) -> list[tuple[bytes, str]]:
    """(raw, unixfrom) pairs: a `.eml` (no From_ line) is one bare message; an mbox file is
    cut at From_ lines that carry an asctime date, the From_ line becoming `unixfrom`."""
    data = path.read_bytes()
    if not data.startswith(b"From "):
        return [(data, "")]
    out: list[tuple[bytes, str]] = []
    for piece in _FROM_LINE.split(data):
        first, _, rest = piece.partition(b"\n")
        out.append((rest, first[5:].decode("utf-8", "replace").rstrip("\r")))
    return out


def first_line_stripped(path: Path) -> tuple[bytes, str]:
    """The whole file as one message: the first line (if a From_ line) becomes `unixfrom`."""
    data = path.read_bytes()
    if not data.startswith(b"From "):
        return data, ""
    first, _, rest = data.partition(b"\n")
    return rest, first[5:].decode("utf-8", "replace").rstrip("\r")


def parse_file(path: Path, index: int = 0) -> Message:
    raw, unixfrom = split_file(path)[index]
    return parse_message(raw, unixfrom)


def mined(name: str) -> Message:
    """A single-message file of `pathological/mined/`, parsed whole."""
    raw, unixfrom = first_line_stripped(PATHOLOGICAL / "mined" / name)
    return parse_message(raw, unixfrom)


def fixture(name: str, index: int = 0) -> Message:
    return parse_file(PATHOLOGICAL / "fixtures" / name, index)
