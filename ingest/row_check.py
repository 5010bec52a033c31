"""Whether SQLite can store a message's row (`unstorable`): the last per-message step of
ingestion (`ingest.worker.build_item`), in a parser worker."""

from __future__ import annotations

from collections.abc import Sequence

from store.records import MESSAGE_COLUMNS

_INT64 = 1 << 63


def unstorable(row: Sequence[object]) -> str:
    """Why SQLite would refuse to bind `row` (a text with lone surrogates, an integer out of
    range, a value of another type), or "" when it would not."""
    for value in row:  # the common row at C speed: ASCII texts, small ints, bytes, None
        kind = type(value)
        if kind is str:
            if not value.isascii():  # type: ignore[attr-defined]
                return _unstorable(row)
        elif kind is int:
            if not -_INT64 <= value < _INT64:  # type: ignore[operator]
                return _unstorable(row)
        elif not (value is None or kind is bytes or kind is float):
            return _unstorable(row)
    return ""


def _unstorable(row: Sequence[object]) -> str:
    """`unstorable`, column by column."""
    for name, value in zip(MESSAGE_COLUMNS, row, strict=False):
        if value is None or isinstance(value, bytes | float):
            continue
        if isinstance(value, str):
            if value.isascii():
                continue
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"column {name}: {_describe(exc)}"
        elif isinstance(value, int):
            if not -_INT64 <= value < _INT64:
                return f"column {name}: integer {value} out of range"
        else:
            return f"column {name}: {type(value).__name__} is not a column value"
    return ""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
