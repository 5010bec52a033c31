"""The embedded backend over hand-built documents: what the store would hold, in memory.

`SqliteFtsBackend` reads indexed bodies back from the store (`search.fts_texts`); tests that
index `IndexDoc`s made by hand have no store, so `RecordingBackend` keeps each document's
bodies as a store would: the latest as the current body, a changed one's previous bodies as
superseded (`store.superseded`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from search.base import IndexDoc
from search.fts_texts import Bodies
from search.sqlite_fts import SqliteFtsBackend


class MemoryTexts:
    """A `TextSource` of the documents given to `put`."""

    def __init__(self) -> None:
        self.bodies: dict[str, Bodies] = {}
        self.replaced: dict[str, list[Bodies]] = {}
        self.body_chars: dict[str, int] = {}

    def put(self, docs: Iterable[IndexDoc]) -> None:
        for doc in docs:
            bodies = (doc.body_own, doc.body_quoted)
            previous = self.bodies.get(doc.key)
            if previous is not None and previous != bodies:
                self.replaced.setdefault(doc.key, []).append(previous)
            self.bodies[doc.key] = bodies
            self.body_chars[doc.key] = doc.body_chars or sum(map(len, bodies))

    def current(self, keys: Sequence[str], longest: int | None = None) -> dict[str, Bodies]:
        return {
            key: self.bodies[key]
            for key in keys
            if key in self.bodies and (longest is None or self.body_chars[key] <= longest)
        }

    def superseded(self, keys: Sequence[str]) -> dict[str, list[Bodies]]:
        return {key: list(self.replaced[key]) for key in keys if key in self.replaced}


class RecordingBackend(SqliteFtsBackend):
    """`SqliteFtsBackend` whose store is a `MemoryTexts` of the documents it was given."""

    def __init__(self, path: Path, **options: Any) -> None:
        self.memory = MemoryTexts()
        super().__init__(path, texts=self.memory, **options)

    def index(self, docs: Iterable[IndexDoc]) -> int:
        batch = list(docs)
        self.memory.put(batch)
        return super().index(batch)
