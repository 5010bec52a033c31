"""The nodes of a parsed query's text expression (`search.query`, which re-exports them):
`Term`, `And`, `Or`, `Not`.

They behave as frozen dataclasses with slots would (the same `__init__`, `==` only between
nodes of one kind, `hash`, `repr`, `__match_args__`; assigning a field raises
`FrozenInstanceError`) but are plain classes: a dataclass costs ~0.4 ms of CPU to create when
its module is imported, every search imports these four, and they need nothing else that
`dataclasses` generates (issue 14, CLI start-up; tests/search/test_query.py).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar


class _Node:
    """Equality, hash, repr and immutability from the fields of each subclass (its
    `__slots__`, in order, which are also its `__match_args__`)."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Node) or other.__class__ is not self.__class__:
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


class Term(_Node):
    """A word or phrase to match; `text` is lower-cased, `words` are its letter/digit runs."""

    __slots__ = __match_args__ = ("text", "words", "quoted")
    text: str
    words: tuple[str, ...]
    quoted: bool

    def __init__(self, text: str, words: tuple[str, ...], quoted: bool = False) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "quoted", quoted)

    @property
    def phrase(self) -> bool:
        """True if the words must be adjacent (quoted, or one word with punctuation)."""
        return len(self.words) > 1


class And(_Node):
    __slots__ = __match_args__ = ("items",)
    items: tuple[Node, ...]

    def __init__(self, items: tuple[Node, ...]) -> None:
        object.__setattr__(self, "items", items)


class Or(_Node):
    __slots__ = __match_args__ = ("items",)
    items: tuple[Node, ...]

    def __init__(self, items: tuple[Node, ...]) -> None:
        object.__setattr__(self, "items", items)


class Not(_Node):
    __slots__ = __match_args__ = ("item",)
    item: Node

    def __init__(self, item: Node) -> None:
        object.__setattr__(self, "item", item)


Node = Term | And | Or | Not
