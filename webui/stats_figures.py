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
import sqlite3
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, request

from analytics import attendance
from analytics import bots as bot_scores
from analytics.frame import Frame
from analytics.scope import Scope
from store import bots, figure_cache, merges, persons
from webui import kept_results
from webui.access import viewer
from webui.extensions import get_store, settings
from webui.stats_params import Params, frame_of

logger = logging.getLogger(__name__)

FRAME_COUNTS = "_frame"  # the frame's own numbers, for `scope_data`
STORE_CODE = ("names.py", "name_match.py", "persons.py", "merges.py")
"""Store modules whose results are kept here too (name matching, the directory, merges)."""
WEBUI_CODE = (
    "stats_pages.py",
    "stats_params.py",
    "obfuscate.py",
    "stats_figures.py",
    "merge_suggestions.py",
)
"""The web modules whose results are kept (the shapes of the kept values are theirs too)."""
SUGGESTIONS_SHOWN = 1000
"""Merge suggestions (the busiest names first) that /persons/suggestions lists over its pages
and /stats/people flags as possible duplicates: the same ones, so that a flag's link lands on
the page showing its suggestion."""


@cache
def code_digest() -> str:
    """A digest of the code the figures come from (analytics and the statistics pages)."""
    root = Path(__file__).resolve().parents[1]
    paths = sorted((root / "analytics").glob("*.py"))
    paths += [root / "webui" / n for n in WEBUI_CODE]
    paths += [root / "store" / n for n in STORE_CODE]
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

    def from_frame() -> dict[str, Any]:
        frame = frame_of(scope)
        return {**compute(frame), FRAME_COUNTS: frame_counts(frame)}

    return kept(_key(kind, scope, found, extra), from_frame)


def kept(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()`'s result as kept in the store for `key` in the archive's current state
    (computed and kept when missing)."""
    if not enabled():
        return compute()
    store = get_store()
    current = figure_cache.state(store.conn)
    found = figure_cache.get(store.conn, key, current)
    if found is not None:
        hit: dict[str, Any] = json.loads(found)
        return hit
    # stored as the JSON twin would show it, and handed back the same way (tuples are lists)
    text = json.dumps(compute(), separators=(",", ":"))
    bound = settings()["web.figure_cache_bytes"]
    if not figure_cache.put(store.path, key, current, text, bound):
        logger.debug("statistics figures not kept (store busy)")
    result: dict[str, Any] = json.loads(text)
    return result


def key_of(*parts: Any) -> str:
    """A cache key for other figures (with the code digest)."""
    text = json.dumps([*parts, request.script_root, code_digest()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def people_suggestions(include_bots: bool) -> dict[str, Any]:
    """For /stats/people: the suggested bots it leaves out (`hidden`, person keys; none when
    bots are counted), the persons with a suggested duplicate (`duplicates`, key -> the
    shared name) and each shared name's place among the suggestions (`ranks`, from 0: the page
    of /persons/suggestions showing it), kept like the figures; the key also holds the
    decisions they depend on (bots and not-bots, pairs recorded as distinct)."""
    conn = get_store().conn
    seen = viewer()
    decided = sorted(bots.decided_ids(conn))
    distinct = sorted(conn.execute("SELECT a, b FROM person_distinct").fetchall())
    where = [seen.include_private, sorted(seen.hidden_lists), seen.removals]
    key = key_of("people-suggestions", include_bots, where, decided, distinct)

    def compute() -> dict[str, Any]:
        hidden = (
            []
            if include_bots
            else sorted({b.key for b in bot_scores.suggestions(conn, seen, limit=1000)})
        )
        found = merges.suggestions(conn, limit=SUGGESTIONS_SHOWN)
        duplicates = {person: s.name for s in found for person in s.persons}
        ranks = {s.name: rank for rank, s in enumerate(found)}
        return {"hidden": hidden, "duplicates": duplicates, "ranks": ranks}

    # kept per state apart from the figures (a bot mark keeps them: the key holds it)
    return kept_results.kept(key, compute) if kept_results.allowed() else kept(key, compute)


def bot_suggestions() -> list[dict[str, Any]]:
    """For /persons/bots: every suggested bot (`analytics.bots.suggestions`, as dicts), kept
    like the figures and keyed also on the decisions and the reader's access."""
    conn = get_store().conn
    seen = viewer()
    decided = sorted(bots.decided_ids(conn))
    where = [seen.include_private, sorted(seen.hidden_lists), seen.removals]
    key = key_of("bot-suggestions", where, decided)

    def compute() -> dict[str, Any]:
        return {"found": [s.as_dict() for s in bot_scores.suggestions(conn, seen)]}

    found: list[dict[str, Any]] = kept(key, compute)["found"]
    return found


def meeting_suggestions(
    conn: sqlite3.Connection, names: list[str], community: str
) -> dict[str, list[dict[str, Any]]]:
    """For a meeting's page: `analytics.attendance.suggestions`, kept like the figures and
    keyed also on the names and the community's lists (its persons are ranked first)."""
    lists = [
        int(r[0])
        for r in conn.execute(
            "SELECT list FROM list_communities WHERE community = ? ORDER BY list", (community,)
        )
    ]
    key = key_of("meeting-suggestions", names, community, lists)
    found: dict[str, list[dict[str, Any]]] = kept(
        key, lambda: attendance.suggestions(conn, names, community)
    )
    return found


def person_rows() -> list[persons.PersonRow]:
    """For the persons directory (and a meeting's look-up): `store.persons.person_rows`,
    kept like the figures (it depends on the archive's state alone)."""
    conn = get_store().conn

    def compute() -> dict[str, Any]:
        return {"rows": [_fields(r) for r in persons.person_rows(conn)]}

    return _rows(kept(key_of("person-rows"), compute)["rows"])


KEPT_ROWS = 500
"""The directory pages kept (`person_page`): those starting before this row (the first five of
100); a later page filters the kept rows like a search, so no visit to `/persons?page=N` adds
an entry past them (each would push a dashboard's figures out of `MAX_ENTRIES`)."""


def person_page(search: str, limit: int, offset: int) -> tuple[int, list[persons.PersonRow]]:
    """`store.persons.list_persons` for one page of the directory (or a look-up): one of the
    first pages without a search is kept itself (a visit reads that page back, not every
    person); a search or a later page filters the kept rows (one entry per search or page
    would push the dashboards' figures out of the store's `MAX_ENTRIES`); a page past the end
    (its total from the first page) is empty and neither computed nor kept."""
    conn = get_store().conn

    def page(start: int) -> Callable[[], dict[str, Any]]:
        def compute() -> dict[str, Any]:
            total, rows = persons.list_persons(
                conn, search=search, limit=limit, offset=start, rows=person_rows()
            )
            return {"total": total, "rows": [_fields(r) for r in rows]}

        return compute

    if search.strip():
        total, rows = persons.list_persons(
            conn, search=search, limit=limit, offset=offset, rows=person_rows()
        )
        return total, rows
    first = kept(key_of("person-page", limit, 0), page(0))
    if offset == 0:
        return int(first["total"]), _rows(first["rows"])
    if offset >= int(first["total"]):
        return int(first["total"]), []
    if offset >= KEPT_ROWS:
        found = page(offset)()
    else:
        found = kept(key_of("person-page", limit, offset), page(offset))
    return int(found["total"]), _rows(found["rows"])


def _fields(row: persons.PersonRow) -> tuple[Any, ...]:
    """A row as the tuple `dataclasses.astuple` gave (its fields in order), without its deep
    copy of each field: 1.6 s of the directory's 42,902 rows at 1M under a profile."""
    return (row.key, row.name, row.messages, row.first, row.last, row.addresses)


def _rows(found: list[list[Any]]) -> list[persons.PersonRow]:
    return [
        persons.PersonRow(key, name, messages, first, last, tuple(addresses))
        for key, name, messages, first, last, addresses in found
    ]
