"""Results kept per state of the archive with the frame snapshots (issue 14, task DB3), for
results whose key holds everything they depend on besides the messages and the persons.

The figure cache (`store.figure_cache`) keeps the pages' figures for a state that holds the
bot marks: marking a bot computes every figure again, though some do not depend on the marks
or name them in their key.  `/stats/people`'s suggestions (`stats_figures.people_suggestions`:
the merge suggestions, ~1.2 s at 1M, and the suggested bots) are such: their key holds the
decisions (bots, not-bots, pairs recorded distinct) and the reader's access, so they depend
on the archive only through the change sequence (syncs, removals, undos) and the persons
version (merges and their undoing), which is `store.frame_snapshots.state`.  They are kept as
JSON rows of the `frame_snapshots` table under keys of their own (`KEY_PREFIX`, the key and
`code_digest`), as the bot scores are (`store.bot_scores`): written by whoever computed them
(a worker, the scheduler's preparation), read back by every other worker after the figure
cache is emptied, never waiting for the writer; a removal forgets them with the snapshots.
A damaged row (not UTF-8, not a JSON object) is logged, ignored and computed again.

Kept only when the figure cache and the frame snapshots are on (`allowed`): with
`STATS_FIGURE_CACHE` False everything is computed, with `FRAME_SNAPSHOTS` False the figure
cache keeps them as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app

from store import frame_snapshots
from webui.extensions import get_store, settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "kept;"
STORE_CODE = ("bots.py", "visibility.py")
"""Store modules the kept results read (the decisions, the reader's access) that the figures'
code digest (`stats_figures.code_digest`) leaves out: a kept row outlives the figures (its
state holds no bot mark), so it names their code too."""


@cache
def code_digest() -> str:
    root = Path(__file__).resolve().parents[1] / "store"
    digest = hashlib.sha256()
    for name in STORE_CODE:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()[:16]


def _row_key(key: str) -> str:
    return f"{KEY_PREFIX}{key};{code_digest()}"


def allowed() -> bool:
    """Whether results are kept here: the figure cache and the frame snapshots on."""
    config = current_app.config
    if not config.get("STATS_FIGURE_CACHE", True):
        return False
    return bool(config.get("FRAME_SNAPSHOTS", True))


def kept(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()`'s result as kept for `key` in the archive's current state (computed and
    kept when missing or damaged), handed back as its JSON text reads (tuples are lists), as
    `stats_figures.kept` does."""
    store = get_store()
    current = frame_snapshots.state(store.conn)  # before computing: a change meanwhile wins
    found = frame_snapshots.get(store.conn, _row_key(key), current)
    if found is not None:
        read = _read(found)
        if read is not None:
            return read
        logger.warning("kept results ignored (damaged): computed again")
    text = json.dumps(compute(), separators=(",", ":"))
    bound = int(settings()["analytics.snapshot_max_bytes"])
    if not frame_snapshots.put(store.path, _row_key(key), current, text.encode(), bound):
        logger.debug("results not kept (store busy, read-only or changed)")
    result: dict[str, Any] = json.loads(text)
    return result


def _read(value: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return found if isinstance(found, dict) else None
