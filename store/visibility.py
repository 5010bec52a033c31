"""Who may read which message: decided here once, for every reader of the store (the reading
pages and their twins, exports, redirects, search hits and statistics).

A list is private when its archive is (`lists.private`).  A message is private when every list
it is on is private (a message on a public and a private list is public, but its private list
is not named).  A reader without private access sees the public messages only, and everything
it is shown is computed from those: a thread is the thread of its visible messages (subject
and root from the first visible one, count and dates from the visible ones), and a visible
reply to a message it may not read is a reply to an unknown message (no parent key).

Removed messages (`store.removals`: a removal not undone marks their keys) are invisible to
every reader, logged in or anonymous, exactly as a message the reader may not read: a thread
is the thread of its other messages, a reply to a removed message answers someone unknown, and
counts, statistics, exports and redirects leave them out (the secretariat sees them on the
removals page only).

`Visibility` is a small frozen value: whether private messages are included, the names of
the lists not to name, and whether any message is removed.  Its SQL fragments are the one
test of visibility in queries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from store import removal_marks


class Visibility(NamedTuple):  # not a dataclass: a tenth of the cost to import (issue 14)
    """What one reader may see.  `EVERYTHING` (logged-in accounts, the CLI) or the
    anonymous view of a store (`for_reader(conn, include_private=False)`)."""

    include_private: bool
    hidden_lists: frozenset[str] = frozenset()
    """Names of the private lists, never named to this reader (empty with private access)."""
    removals: bool = False
    """Some messages are removed (`store.removals`): hidden from this reader as from all."""

    @property
    def hides_messages(self) -> bool:
        """Some stored message is invisible to this reader (private or removed): thread
        summaries and parents must then be worked out from the visible messages."""
        return self.removals or not self.include_private

    def not_removed(self, alias: str = "m") -> str:
        """SQL condition on `messages {alias}`: the message is not removed (for every reader,
        whatever its access; cheap: the removed keys are read once per statement)."""
        return not_removed(alias) if self.removals else "1"

    def messages(self, alias: str = "m") -> str:
        """SQL condition on `messages {alias}`: the message is visible.  A message on no list
        at all counts as public, like in the search index."""
        removed = self.not_removed(alias)
        if self.include_private:
            return removed
        private = (
            "coalesce((SELECT min(vl.private) FROM memberships vm JOIN lists vl "
            f"ON vl.id = vm.list WHERE vm.message = {alias}.id), 0) = 0"
        )
        return private if removed == "1" else f"{removed} AND {private}"

    def lists(self, alias: str = "l") -> str:
        """SQL condition on `lists {alias}`: the list may be named and opened."""
        return "1" if self.include_private else f"{alias}.private = 0"

    def parent_key(self, alias: str = "m") -> str:
        """SQL expression: the parent key of `messages {alias}` when the parent is visible,
        else NULL (a reply to a message this reader may not read answers someone unknown)."""
        if not self.hides_messages:
            return f"{alias}.parent_key"
        return (
            f"(SELECT vp.key FROM messages vp WHERE vp.key = {alias}.parent_key "
            f"AND {self.messages('vp')})"
        )

    def shows_list(self, name: str) -> bool:
        return name not in self.hidden_lists

    def shown_lists(self, names: Iterable[str]) -> list[str]:
        """`names` without the lists this reader must not see named."""
        return [name for name in names if name not in self.hidden_lists]


EVERYTHING = Visibility(include_private=True)
"""Private access over a store with nothing removed (use `for_reader` for a real store)."""


def for_reader(conn: sqlite3.Connection, *, include_private: bool) -> Visibility:
    """The visibility of a reader with or without private access, over this store's lists
    and its removals."""
    removed = removal_marks.any_active(conn)
    if include_private:
        return Visibility(include_private=True, removals=removed)
    hidden = frozenset(str(r[0]) for r in conn.execute("SELECT name FROM lists WHERE private"))
    return Visibility(include_private=False, hidden_lists=hidden, removals=removed)


def not_removed(alias: str = "m") -> str:
    """SQL condition on `messages {alias}`: the message is not removed (`store.removals`), for
    queries that take no reader (every reader is refused removed messages alike)."""
    return f"{alias}.key NOT IN ({removal_marks.ACTIVE_KEYS})"


def is_private(list_flags: Sequence[bool]) -> bool:
    """A message on lists with these `private` flags is private (on lists, all private)."""
    return bool(list_flags) and all(list_flags)
