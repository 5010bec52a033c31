"""The hits of a page of the embedded backend: its rows (`search.fts_page.Row`) made `Hit`
objects, with their snippets made in Python from the bodies read back for the page at once
(`search.fts_texts.page_bodies`), and the restriction of a plan to public messages.

Split from `search.sqlite_fts` (the backend keeps its connection, writes and the search's
transaction; what a page's rows become is here).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from search.base import Hit
from search.fts_page import Row
from search.fts_sql import FtsPlan
from search.fts_texts import TextSource, page_bodies
from search.snippets import TextLimits, best_snippet


def public_only(conn: sqlite3.Connection, plan: FtsPlan) -> FtsPlan:
    """`plan` restricted to public messages; unchanged (so just as fast) while the index
    holds no private message, which the partial index `docs_private` answers at once."""
    if conn.execute("SELECT 1 FROM docs WHERE private = 1 LIMIT 1").fetchone() is None:
        return plan
    where = "d.private = 0" if plan.where == "1" else f"({plan.where}) AND d.private = 0"
    return FtsPlan(match=plan.match, where=where, params=plan.params, by_sender=False)


def _snippet(
    bodies: tuple[str, str] | None,
    phrases: tuple[tuple[str, ...], ...],
    subject: str,
    max_bytes: int,
) -> str:
    own, quoted = bodies or ("", "")
    # the start of both bodies (characters; best_snippet cuts them to bytes)
    return best_snippet(own[:max_bytes], quoted[:max_bytes], phrases, subject, max_bytes)


def page_hits(
    conn: sqlite3.Connection,
    rows: list[Row],
    phrases: tuple[tuple[str, ...], ...],
    score: Callable[[Row], float],
    texts: tuple[TextSource, TextLimits],
) -> list[Hit]:
    """The hits of a page of rows, with their snippets (bodies read for the page at once)."""
    ids = [int(row[8] or 0) for row in rows]
    keys = [(doc_id, str(row[0])) for doc_id, row in zip(ids, rows, strict=True)]
    bodies = page_bodies(conn, keys, texts)
    max_bytes = texts[1].max_snippet_bytes
    return [
        hit_of(row[:8], _snippet(bodies.get(i), phrases, str(row[3]), max_bytes), score(row))
        for i, row in zip(ids, rows, strict=True)
    ]


def hit_of(row: Row, snippet: str, score: float) -> Hit:
    """The `Hit` of a row's `search.fts_page.FIELDS`."""
    key, message_id, lists, subject, from_name, from_addr, date, thread_id = row
    return Hit(
        key=str(key),
        message_id=str(message_id),
        lists=tuple(name for name in str(lists).split("|") if name),
        subject=str(subject),
        from_name=str(from_name),
        from_addr=str(from_addr),
        date=datetime.fromtimestamp(date, UTC) if isinstance(date, int) else None,
        thread_id=str(thread_id),
        snippet=snippet,
        score=score,
    )
