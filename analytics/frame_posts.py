"""What a frame is made of (`analytics.frame`): its persons and threads (`PersonRef`,
`ThreadRef`), its posts (`Post`), their fields as arrays (`PostColumns`) and the list holding
them, made on first use (`PostSource`; issue 14, task LP).

A frame read from its snapshot has its posts' fields as arrays, and the facts and most
metrics read those: making its million `Post` tuples (~0.6 s at 1M) is left to the first
metric that reads a post (`Frame.posts`).  A `PostSource` is shared by every frame seen
through another window of the same loaded frame, and it is what the derived caches are
keyed on (`analytics.facts`), the list's identity no longer being known before it is made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from analytics.frame_memory import long_lived


class Post(NamedTuple):
    """One post of the scope (a named tuple: frames hold tens of thousands of them)."""

    id: int
    key: str
    date: int  # seconds since the epoch, UTC
    thread: str
    parent: str | None  # the key of the message replied to
    person: int
    parent_person: int | None  # who is replied to (also on another list); None: not known
    lists: tuple[int, ...]  # the scope's lists this post is on


@dataclass(frozen=True, slots=True)
class PersonRef:
    id: int
    key: str
    name: str


class ThreadRef(NamedTuple):  # a named tuple: a frame holds one a thread (quicker to make)
    id: str
    subject: str
    root_key: str | None


@dataclass(frozen=True, slots=True)
class PostColumns:
    """Fields of a frame's posts as arrays (parallel to `posts`), as a frame read from its
    snapshot has them (`analytics.frame_snapshot`): `analytics.facts_columns` takes them
    instead of reading them back from a million `Post`s.  A frame loaded from SQL has none."""

    dates: NDArray[np.int64]
    persons: NDArray[np.int64]
    threads: NDArray[np.int64]  # the index of the post's thread id in `thread_table`
    thread_table: list[str]  # distinct thread ids
    parent_persons: NDArray[np.int64]  # -1: None

    def without(self, marked: frozenset[int]) -> PostColumns:
        """The columns of the posts not by `marked`, replies to them answering nobody known
        (what `_without_bots` makes of the posts)."""
        bots_ = np.array(sorted(marked), np.int64)
        kept = ~np.isin(self.persons, bots_)
        parents = self.parent_persons[kept]
        parents[np.isin(parents, bots_)] = -1
        return PostColumns(
            self.dates[kept], self.persons[kept], self.threads[kept], self.thread_table, parents
        )


class PostSource:
    """The posts of a loaded frame, given or made by `make` the first time they are read
    (once, whichever thread asks first); `count`: how many, known before they are made."""

    __slots__ = ("_posts", "_make", "_lock", "count")

    def __init__(
        self,
        posts: list[Post] | None = None,
        make: Callable[[], list[Post]] | None = None,
        count: int = 0,
    ):
        if (posts is None) == (make is None):
            raise ValueError("a PostSource is given its posts or a way to make them")
        self._posts, self._make = posts, make
        self._lock = threading.Lock()
        self.count = len(posts) if posts is not None else count

    @property
    def made(self) -> bool:
        """Whether the posts exist (given, or made already)."""
        return self._posts is not None

    def get(self) -> list[Post]:
        found = self._posts
        if found is not None:
            return found
        with self._lock:
            if self._posts is None:
                make = self._make
                assert make is not None
                with long_lived():  # out of the collector's passes, as a loaded frame's
                    made = make()
                if len(made) != self.count:
                    raise ValueError(f"{len(made)} posts made, {self.count} expected")
                self._posts, self._make = made, None  # what `make` held is freed
            return self._posts

    def __len__(self) -> int:
        return self.count

    def __eq__(self, other: object) -> bool:  # frames compare by their posts
        if not isinstance(other, PostSource):
            return NotImplemented
        return other is self or self.get() == other.get()

    __hash__ = None  # type: ignore[assignment]  # mutable (made later): not a dict key

    def __repr__(self) -> str:
        state = "made" if self.made else "not made"
        return f"PostSource({self.count} posts, {state})"
