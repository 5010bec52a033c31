"""`Frozen`: the base of the search's small value classes (the query tree, `Query`, `Hit`,
`SearchResult`, `PersonRef`).

A subclass names its fields in `__slots__` (which are also its `__match_args__`) and sets them
in its own `__init__` with `object.__setattr__`; it then behaves as a frozen dataclass with
slots would: `==` only between instances of one class (field by field), `hash` of the fields'
tuple, the dataclass `repr`, `FrozenInstanceError` on assignment, pattern matching, pickling
and copies; `_replace(**changes)` stands in for `dataclasses.replace`.  It is a plain class
because a dataclass costs ~0.4-1 ms of CPU to create when its module is imported, and every
`listarchive search` imports these (issue 14, CLI start-up; tests/search/test_frozen.py).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, Self


class Frozen:
    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def _replace(self, **changes: Any) -> Self:
        """A copy with `changes` (as `dataclasses.replace`)."""
        values = {name: getattr(self, name) for name in self.__match_args__}
        return type(self)(**(values | changes))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frozen) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:
        return self._fields()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__match_args__, state, strict=True):
            object.__setattr__(self, name, value)
