"""Web page benchmark: server time (p50/p95/max) of the search, thread and message pages.

Requests go through Flask's test client in this process, so the figures are the time the
application takes to answer (routing, store, search, template rendering, reading the whole
body), not network time.  Pages: ~100 realistic search queries (bench/search.py's set),
100 thread pages and 100 message pages picked deterministically from the store.

.venv/bin/python bench/ingest.py --keep /tmp/la-bench     # once, builds the store
.venv/bin/python bench/web.py --data-dir /tmp/la-bench [--rounds 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.search import percentile, queries  # noqa: E402
from config.settings import load_settings  # noqa: E402
from webui import create_app  # noqa: E402

SEARCH_P95_TARGET_MS = 150.0
PAGES = 100


def spread(values: list[str], count: int) -> list[str]:
    """`count` values evenly spaced over `values` (all of them when there are fewer)."""
    if len(values) <= count:
        return values
    return [values[i * len(values) // count] for i in range(count)]


def pick_paths(data_dir: Path, count: int) -> dict[str, list[str]]:
    conn = sqlite3.connect(f"file:{data_dir / 'store.db'}?mode=ro", uri=True)
    try:
        # threads of every size, in a stable order (their ids are derived from the root)
        threads = [r[0] for r in conn.execute("SELECT thread_id FROM threads ORDER BY thread_id")]
        keys = [r[0] for r in conn.execute("SELECT key FROM messages ORDER BY key")]
    finally:
        conn.close()
    if not threads or not keys:
        sys.exit(f"no messages in {data_dir}: build it with bench/ingest.py --keep DIR")
    return {
        "search": ["/search?" + urlencode({"q": q}) for q in spread(queries(), count)],
        "thread": [f"/threads/{t}" for t in spread(threads, count)],
        "message": [f"/messages/{k}" for k in spread(keys, count)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=PAGES, help="pages of each kind")
    args = parser.parse_args()
    if not (args.data_dir / "store.db").is_file():
        sys.exit(f"no store at {args.data_dir}: build it with bench/ingest.py --keep DIR")

    app = create_app(load_settings(env={}, overrides={"data_dir": args.data_dir}))
    client = app.test_client()
    paths = pick_paths(args.data_dir, args.pages)
    failures: list[str] = []
    for kind_paths in paths.values():  # warm the caches once
        for path in kind_paths:
            response = client.get(path)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {path}")
            response.close()
    if failures:
        print(f"{len(failures)} pages did not answer 200:")
        for failure in failures[:20]:
            print(f"  {failure}")
        sys.exit(1)

    times: dict[str, list[float]] = {kind: [] for kind in paths}
    sizes: dict[str, list[int]] = {kind: [] for kind in paths}
    for _ in range(args.rounds):
        for kind, kind_paths in paths.items():
            for path in kind_paths:
                started = time.perf_counter()
                response = client.get(path)
                body = response.get_data()  # a streamed body is produced here
                times[kind].append((time.perf_counter() - started) * 1000)
                sizes[kind].append(len(body))
                response.close()

    print(
        f"web pages on {args.data_dir} (server time, Flask test client in process): "
        f"{args.rounds} rounds"
    )
    for kind, values in times.items():
        print(
            f"  {kind:<8} {len(paths[kind]):>3} pages  p50 {percentile(values, 50):6.1f} ms   "
            f"p95 {percentile(values, 95):6.1f} ms   max {max(values):6.1f} ms   "
            f"median size {sorted(sizes[kind])[len(sizes[kind]) // 2] / 1024:5.1f} KiB"
        )
    p95 = percentile(times["search"], 95)
    verdict = "ok" if p95 < SEARCH_P95_TARGET_MS else "MISSED"
    print(f"  search p95 {p95:.1f} ms (target < {SEARCH_P95_TARGET_MS:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
