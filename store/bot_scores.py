"""Bot scores kept in the store (issue 14, task BS): `analytics.bots.scores` of a reader's
access, computed once per state of the archive by whoever computed them (a web worker, the
scheduler's preparation) and read back by every other worker instead of scanning every
visible message again (~5 s at 1M).

The scores depend on the messages a reader may see and who sent them: the change sequence
(every sync, removal and undo bumps it), the persons version (merges and their undoing) and
the reader's access (private or not, which lists are private, whether anything is removed),
and on the scoring code.  They do not depend on the bot marks or the "not a bot" decisions
(`analytics.bots.suggestions` leaves the decided persons out afterwards), so marking a bot
keeps them, where the figure cache (`store.figure_cache`, whose state holds the marks)
computes its figures again.

They are rows of the `frame_snapshots` table (its state is exactly the one above:
`store.frame_snapshots.state`), under keys of their own (`KEY_PREFIX`): a put never waits
for the store's writer, drops every row of another state and stays within the snapshots'
bound in bytes; a removal forgets them with the snapshots (`store.figure_cache.drop`).  The
value is JSON text (never pickle), opaque here; a damaged one is the caller's to ignore.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import frame_snapshots

KEY_PREFIX = "bot-scores;"


def state(conn: sqlite3.Connection) -> str:
    """The state of the archive the scores depend on (see the module's text)."""
    return frame_snapshots.state(conn)


def get(conn: sqlite3.Connection, key: str, current: str) -> str | None:
    """The scores' JSON text kept for `key` in the state `current`, or None (none kept, or
    not UTF-8 text)."""
    found = frame_snapshots.get(conn, KEY_PREFIX + key, current)
    if found is None:
        return None
    try:
        return found.decode("utf-8")
    except UnicodeDecodeError:
        return None


def put(path: Path, key: str, current: str, value: str, max_bytes: int) -> bool:
    """Keep the scores' JSON text for `key` in the state `current` (False: not kept, as
    `store.frame_snapshots.put`).  Never waits for another writer."""
    return frame_snapshots.put(path, KEY_PREFIX + key, current, value.encode("utf-8"), max_bytes)
