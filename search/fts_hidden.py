"""The embedded backend's plan without the documents of removed messages (issue 14, task
CL3): a removal the index could not follow at once (`search.indexer.refresh` in the web UI
never rebuilds; the next sync or `listarchive reindex` does) leaves the message's document in
the index, and its subject and sender could show in a hit until then.  The reader names the
keys the index may still hold (`search.reader.removed_in_index`); their documents are left
out of the plan, so the hits, the total and the facets are those of an index that had
followed the removal (exact, not a bound).  Nothing is read and the plan is the same (so
just as fast) when no key is named, the usual case.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from search.fts_sql import FtsPlan

_CHUNK = 500


def without_keys(conn: sqlite3.Connection, plan: FtsPlan, keys: Collection[str]) -> FtsPlan:
    """`plan` without the documents of `keys` that the index holds (live tables)."""
    if not keys:
        return plan
    wanted = sorted(set(keys))
    ids: list[int] = []
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        marks = ", ".join("?" * len(part))
        ids += [
            int(r[0]) for r in conn.execute(f"SELECT id FROM docs WHERE key IN ({marks})", part)
        ]
    if not ids:
        return plan
    out = f"d.id NOT IN ({', '.join(str(i) for i in sorted(ids))})"  # integers read here
    where = out if plan.where == "1" else f"({plan.where}) AND {out}"
    return FtsPlan(match=plan.match, where=where, params=plan.params, by_sender=False)
