"""The figures of a statistics page, computed once per state of the archive and shared by
every web worker through the store (`store.figure_cache`, issue 14).

A page asks `figures(kind, scope, found, extra, compute)`: when the store holds the figures of
that page, scope and parameters for the archive's current state, they are read back (JSON) and
no frame is loaded; otherwise `compute(frame)` runs on the frame (`analytics.frame`) as before
and its result is kept.  The key holds everything the figures depend on besides the archive's
state: the page, the lists, the reader's access, bots in or out, the window, the period,
limits and page parameters, the application's URL root (rows carry links), and a digest of the
code that computes them (an upgrade never serves figures of the previous definitions).

`app.config["STATS_FIGURE_CACHE"] = False` turns the store cache off (the frame-based path
alone: the equivalence tests compare both).  CSV twins always compute from the frame.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, request

from analytics.frame import Frame
from analytics.scope import Scope
from store import figure_cache
from webui.extensions import get_store
from webui.stats_params import Params, frame_of

logger = logging.getLogger(__name__)

FRAME_COUNTS = "_frame"  # the frame's own numbers, for `scope_data`


@cache
def code_digest() -> str:
    """A digest of the code the figures come from (analytics and the statistics pages)."""
    root = Path(__file__).resolve().parents[1]
    paths = sorted((root / "analytics").glob("*.py"))
    paths += [root / "webui" / n for n in ("stats_pages.py", "stats_params.py", "obfuscate.py")]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def enabled() -> bool:
    return bool(current_app.config.get("STATS_FIGURE_CACHE", True))


def _key(kind: str, scope: Scope, found: Params, extra: dict[str, Any]) -> str:
    parts = {
        "kind": kind,
        "scope": scope.as_dict(),
        "list_ids": list(scope.list_ids),
        "private": scope.include_private,
        "bots": scope.include_bots,
        "period": found.period,
        "limit": found.limit,
        "extra": extra,
        "root": request.script_root,
        "code": code_digest(),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def frame_counts(frame: Frame) -> dict[str, int]:
    return {
        "undated": frame.undated,
        "bots_excluded_posts": frame.bots_excluded_posts,
        "bot_posts": frame.bot_posts,
    }


def figures(
    kind: str,
    scope: Scope,
    found: Params,
    extra: dict[str, Any],
    compute: Callable[[Frame], dict[str, Any]],
) -> dict[str, Any]:
    """The page's figures (a JSON-ready dict) with the frame's counts under FRAME_COUNTS."""
    if not enabled():
        frame = frame_of(scope)
        return {**compute(frame), FRAME_COUNTS: frame_counts(frame)}
    store = get_store()
    key = _key(kind, scope, found, extra)
    current = figure_cache.state(store.conn)
    kept = figure_cache.get(store.conn, key, current)
    if kept is not None:
        found_figures: dict[str, Any] = json.loads(kept)
        return found_figures
    frame = frame_of(scope)
    computed = {**compute(frame), FRAME_COUNTS: frame_counts(frame)}
    # stored as the JSON twin would show it, and handed back the same way (tuples are lists)
    text = json.dumps(computed, separators=(",", ":"))
    if not figure_cache.put(store.path, key, current, text):
        logger.debug("statistics figures of %s not kept (store busy)", kind)
    result: dict[str, Any] = json.loads(text)
    return result
