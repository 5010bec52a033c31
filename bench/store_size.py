"""Store size benchmark (issue 14): where the bytes of a data directory go, against the raw
message bytes the store holds (`sum(messages.raw_size)`).

Prints, for the store and the SQLite search index: each table and index (SQLite's `dbstat`:
pages in use, free pages apart), then the bytes of each column of `messages` (`body`, the
compressed `raw`; stores made before store migration 14 also `body_own` + `body_quoted`), and
the FTS5 tables (`docs`: the fields searches filter and show; only a long body's indexed text
is kept there, `docs.texts`, the others are read back from the store: `search.fts_texts`).

    .venv/bin/python bench/ingest.py --keep /tmp/la-bench     # once, builds the store
    .venv/bin/python bench/store_size.py --data-dir /tmp/la-bench [--top 25]
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

STORE = "store.db"
INDEX = "search-fts.db"


def _mb(size: float) -> str:
    return f"{size / 1e6:9.1f} MB"


def tables(path: Path, top: int) -> int:
    """Print the largest tables and indexes of one database; returns its file size."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT name, sum(pgsize), sum(pgsize - unused) FROM dbstat GROUP BY name "
            "ORDER BY 2 DESC"
        ).fetchall()
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    print(
        f"\n{path.name}: {_mb(size)} on disk"
        + (f" (+ WAL {_mb(wal.stat().st_size)})" if wal.exists() else "")
    )
    for name, pages, used in rows[:top]:
        print(f"  {name:<32} {_mb(pages)}  ({100 * pages / size:4.1f} %, {_mb(used)} used)")
    rest = sum(pages for _name, pages, _used in rows[top:])
    if rest:
        print(f"  {'(the others)':<32} {_mb(rest)}")
    print(f"  {'(free pages)':<32} {_mb(free * page)}")
    return size


def columns(path: Path) -> int:
    """Print the bytes of each column of `messages`; returns the raw bytes it holds."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
        sums = ", ".join(f"sum(length(CAST({name} AS BLOB)))" for name in names)
        totals = conn.execute(f"SELECT count(*), sum(raw_size), {sums} FROM messages").fetchone()
    finally:
        conn.close()
    count, raw = totals[0], totals[1] or 0
    print(f"\nmessages: {count} rows holding {_mb(raw)} of raw message bytes; by column:")
    for name, total in sorted(
        zip(names, totals[2:], strict=True), key=lambda item: -(item[1] or 0)
    ):
        if total and total > 0.005 * raw:
            print(f"  {name:<32} {_mb(total)}")
    return int(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    store = args.data_dir / STORE
    total = tables(store, args.top)
    raw = columns(store)
    index = args.data_dir / INDEX
    if index.exists():
        total += tables(index, args.top)
    print(f"\nstore + index {_mb(total)} for {_mb(raw)} raw: {total / max(raw, 1):.2f}x")


if __name__ == "__main__":
    main()
