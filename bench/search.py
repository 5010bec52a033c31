"""Search latency benchmark: p50/p95 of a fixed set of realistic queries on a synced store.

.venv/bin/python bench/ingest.py --keep /tmp/la-bench     # once, builds the store
.venv/bin/python bench/search.py --data-dir /tmp/la-bench [--backend sqlite]

`--dump FILE` writes each query's total, page keys, snippets and next cursor (both sorts) as
JSON, to compare two versions' answers; `--index-only` reads a copy of the index without
rebuilding it from its store (no check that the index is complete: the store is 2 GB at 300k
messages); snippets are read from the store beside it (`search.fts_texts`), the subjects
without one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from search import indexer  # noqa: E402
from search.base import Sort  # noqa: E402
from search.factory import open_backend  # noqa: E402
from store.store import Store  # noqa: E402

WORDS = [
    "deferred",
    "reactor",
    "callback",
    "errback",
    "twistd",
    "conch",
    "perspective broker",
    "trial",
    "nevow",
    "web2",
    "adbapi",
    "iocp",
    "epoll",
    "kqueue",
    "ssl",
    "tls",
    "ftp",
    "smtp",
    "imap",
    "dns",
    "xmlrpc",
    "jelly",
    "banana",
    "inlineCallbacks",
    "LineReceiver",
    "Protocol",
    "Factory",
    "threads",
    "deferToThread",
    "callLater",
    "LoopingCall",
    "Failure",
    "zope interface",
    "plugin",
    "tap",
    "application",
    "service",
    "endpoint",
    "python3",
    "unicode",
    "windows",
    "memory leak",
    "segfault",
    "timeout",
]
TEMPLATES = [
    "{w}",
    '"{w}"',
    "{w} -windows",
    "{w} OR timeout",
    "subject:{w}",
    "{w} after:2010-01-01",
    "{w} before:2005-01-01",
]
EXTRA = [
    "from:glyph@twistedmatrix.com deferred",
    'from:"Jean-Paul Calderone" reactor',
    "from:itamar",
    "list:twisted-python after:2014-09-01",
    "list:twisted-python after:2019-01-01 before:2019-02-01",
    "twisted.internet.defer",
    "http://twistedmatrix.com/trac/ticket/1234",
    "2.5.0 release",
    '"maybe deferred" OR maybeDeferred',
    "subject:release -candidate",
    "reactor.run() hangs",
    "exarkun@divmod.com",
    "twisted-python@twistedmatrix.com",
    "CVE-2019-12387",
    "python 3 port",
]


def queries() -> list[str]:
    return (
        [t.format(w=w) for w in WORDS for t in TEMPLATES[:3]]
        + [t.format(w=w) for w in WORDS[:12] for t in TEMPLATES[3:]]
        + EXTRA
    )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "elasticsearch"])
    parser.add_argument(
        "--es-url", default=os.environ.get("LISTARCHIVE_SEARCH_URL", "http://127.0.0.1:9200")
    )
    parser.add_argument("--es-index", default="listarchive-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dump", type=Path, default=None, help="answers as JSON, to compare")
    parser.add_argument("--index-only", action="store_true", help="no store (sqlite only)")
    args = parser.parse_args()
    kinds = ["sqlite"] if args.backend == "sqlite" else ["sqlite", "elasticsearch"]
    for kind in kinds:
        measure(kind, args)


def measure(kind: str, args: argparse.Namespace) -> None:
    backend = open_backend(kind, args.data_dir, args.es_url, index_prefix=args.es_index)
    if not args.index_only:
        store = Store(args.data_dir / "store.db")
        if backend.count() != store.message_count():
            print(f"building the {kind} index from the store ...")
            indexer.rebuild(store, backend)
        store.close()
    qs = queries()
    answers = {}
    for q in qs:  # warm caches once
        for sort in ("relevance", "date"):
            r = backend.search(q, limit=20, sort=sort)
            hits = [[hit.key, hit.snippet] for hit in r.hits]
            answers[f"{sort} {q}"] = {"total": r.total, "hits": hits, "next": r.next_cursor}
    if args.dump is not None:
        args.dump.write_text(json.dumps(answers, indent=0, ensure_ascii=False))
    cpu_before = time.process_time()
    times: dict[Sort, list[float]] = {"relevance": [], "date": []}
    totals = []
    for _ in range(args.rounds):
        for q in qs:
            for sort in times:
                started = time.perf_counter()
                result = backend.search(q, limit=20, sort=sort)
                times[sort].append((time.perf_counter() - started) * 1000)
                totals.append(result.total)
    cpu = time.process_time() - cpu_before
    backend.close()
    print(
        f"backend {kind}: {len(qs)} queries x {args.rounds} rounds x 2 sorts, "
        f"median total {statistics.median(totals):.0f} hits, {cpu:.2f} s CPU, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for sort, values in times.items():
        print(
            f"  sort={sort:<9} p50 {percentile(values, 50):6.1f} ms   "
            f"p95 {percentile(values, 95):6.1f} ms   max {max(values):6.1f} ms"
        )
    both = times["relevance"] + times["date"]
    print(f"  all        p50 {percentile(both, 50):6.1f} ms   p95 {percentile(both, 95):6.1f} ms")


if __name__ == "__main__":
    main()
