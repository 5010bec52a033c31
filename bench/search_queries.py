"""Per-query search figures (issue 14): which of `bench/search.py`'s queries make the p95.

For each query and sort: the median wall and CPU milliseconds over `--rounds` runs, the
SQLite virtual-machine steps of one run (FTS5 backend: counted with ``set_progress_handler``,
so SQLite's work can be told from Python's) and the total; the slowest are printed first,
with the p50/p95 of the whole loop and the load average.

    .venv/bin/python bench/search_queries.py --data-dir /tmp/SE/300k [--facets] [--top 30]
    .venv/bin/python bench/search_queries.py --data-dir DIR --backend elasticsearch \
        --es-index PREFIX

`--json FILE` writes every row; `--profile FILE` runs the loop once more under cProfile and
prints the top functions.  The index is read as it is: no check against a store (as
`bench/search.py --index-only`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.search import percentile, queries  # noqa: E402
from search.base import Sort  # noqa: E402
from search.factory import open_backend  # noqa: E402

_STEP = 1000
"""VM instructions between two calls of the progress handler."""


def _listed(name: str | None) -> list[str]:
    if name is None:
        return queries()
    return [q.replace("list:twisted-python", f"list:{name}") for q in queries()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "elasticsearch"])
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    parser.add_argument("--es-index", default="listarchive-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--facets", action="store_true", help="ask for facets (as the web UI)")
    parser.add_argument("--list", default=None, help="list name for list:twisted-python")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", default=None, help="only queries containing this text")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--pragma", action="append", default=[], help="e.g. mmap_size=1e9")
    args = parser.parse_args()
    backend = open_backend(args.backend, args.data_dir, args.es_url, index_prefix=args.es_index)
    conn: sqlite3.Connection | None = getattr(backend, "_conn", None)
    for pragma in args.pragma:
        if conn is not None:
            conn.execute(f"PRAGMA {pragma}")
    steps = [0]

    def tick() -> int:
        steps[0] += _STEP
        return 0

    qs = [q for q in _listed(args.list) if args.only is None or args.only in q]
    sorts: tuple[Sort, ...] = ("relevance", "date")
    rows: list[dict[str, Any]] = []
    walls: list[float] = []
    for q in qs:  # warm once
        for sort in sorts:
            backend.search(q, limit=20, sort=sort, facets=args.facets)
    for q in qs:
        for sort in sorts:
            wall: list[float] = []
            cpu: list[float] = []
            total = 0
            for _ in range(args.rounds):
                c0, w0 = time.process_time(), time.perf_counter()
                total = backend.search(q, limit=20, sort=sort, facets=args.facets).total
                wall.append((time.perf_counter() - w0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            walls += wall
            vm = 0
            if conn is not None:
                steps[0] = 0
                conn.set_progress_handler(tick, _STEP)
                backend.search(q, limit=20, sort=sort, facets=args.facets)
                conn.set_progress_handler(None, _STEP)
                vm = steps[0]
            rows.append(
                {
                    "query": q,
                    "sort": sort,
                    "total": total,
                    "wall_ms": statistics.median(wall),
                    "cpu_ms": statistics.median(cpu),
                    "vm_ksteps": vm // 1000,
                }
            )
    if args.profile is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        for q in qs:
            for sort in sorts:
                backend.search(q, limit=20, sort=sort, facets=args.facets)
        profiler.disable()
        profiler.dump_stats(args.profile)
        pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(25)
    backend.close()
    rows.sort(key=lambda row: -float(row["wall_ms"]))
    cpus = [float(row["cpu_ms"]) for row in rows]
    print(
        f"backend {args.backend} facets={args.facets}: {len(qs)} queries x 2 sorts x "
        f"{args.rounds} rounds; p50 {percentile(walls, 50):.1f} ms, p95 "
        f"{percentile(walls, 95):.1f} ms, max {max(walls):.1f} ms; "
        f"CPU {sum(cpus) * args.rounds / 1000:.2f} s, per query p50 {percentile(cpus, 50):.1f}"
        f" p95 {percentile(cpus, 95):.1f} ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'wall':>7} {'cpu':>7} {'kvm':>8} {'total':>8}  sort       query")
    for row in rows[: args.top]:
        print(
            f"{row['wall_ms']:7.1f} {row['cpu_ms']:7.1f} {row['vm_ksteps']:8d} "
            f"{row['total']:8d}  {row['sort']:<9}  {row['query']}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=0))


if __name__ == "__main__":
    main()
