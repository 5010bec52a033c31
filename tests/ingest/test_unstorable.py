"""`ingest.worker.unstorable`: why SQLite would refuse a row, or "" (its fast path for the
common row, ASCII texts and small integers, answers as the column-by-column check does)."""

from __future__ import annotations

import pytest

from ingest.worker import unstorable
from store.records import MESSAGE_COLUMNS

_ROW: tuple[object, ...] = tuple(
    b"x" if name == "content" else 1 if name.endswith(("_size", "_bytes", "_chars")) else "a"
    for name in MESSAGE_COLUMNS
)


def _with(name: str, value: object) -> tuple[object, ...]:
    index = MESSAGE_COLUMNS.index(name)
    return (*_ROW[:index], value, *_ROW[index + 1 :])


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("subject", "plain ascii", ""),
        ("subject", "Grüße, 日本", ""),
        ("date", None, ""),
        ("date", 1 << 40, ""),
        ("is_html_only", True, ""),
        ("date", 2.5, ""),
        ("subject", "bad \udcff surrogate", "column subject: UnicodeEncodeError: "),
        ("date", 1 << 63, f"column date: integer {1 << 63} out of range"),
        ("date", -(1 << 63) - 1, f"column date: integer {-(1 << 63) - 1} out of range"),
        ("to_json", ["a"], "column to_json: list is not a column value"),
    ],
)
def test_a_row_is_storable_or_says_why(name: str, value: object, problem: str) -> None:
    found = unstorable(_with(name, value))
    assert found.startswith(problem) and bool(found) == bool(problem)


def test_the_first_bad_column_is_named() -> None:
    row = _with("subject", "\ud800")
    index = MESSAGE_COLUMNS.index("from_name")
    row = (*row[:index], "\udc80", *row[index + 1 :])
    first = min(MESSAGE_COLUMNS.index("subject"), index)
    assert unstorable(row).startswith(f"column {MESSAGE_COLUMNS[first]}: UnicodeEncodeError")
