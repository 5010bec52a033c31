"""End-to-end ingest benchmark: sync the twisted-python pipermail archive served over local
HTTP into a fresh data directory; prints messages/s, wall time and peak RSS.

With `--backend elasticsearch` the sync indexes into Elasticsearch (`--es-url`, default
$LISTARCHIVE_SEARCH_URL or http://127.0.0.1:9200), and then both backends are rebuilt from the
same store side by side, to compare indexing throughput.

    .venv/bin/python bench/ingest.py [--list NAME] [--workers N] [--keep DIR]
    .venv/bin/python bench/ingest.py --backend elasticsearch --es-url http://127.0.0.1:9200
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench._common import TWISTED, RssSampler, serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--list", default="twisted-python", help="folder under the corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the data directory here")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "elasticsearch"])
    parser.add_argument(
        "--es-url", default=os.environ.get("LISTARCHIVE_SEARCH_URL", "http://127.0.0.1:9200")
    )
    parser.add_argument("--es-index", default="listarchive-bench")
    args = parser.parse_args()

    server, base = serve(TWISTED)
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="listarchive-bench-"))
    if data_dir.exists():
        shutil.rmtree(data_dir)
    cli = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir)]
    env_backend = {
        "LISTARCHIVE_SEARCH_BACKEND": args.backend,
        "LISTARCHIVE_SEARCH_URL": args.es_url,
        "LISTARCHIVE_SEARCH_INDEX": args.es_index,
    }
    try:
        subprocess.run(
            [*cli, "lists", "add", args.list, "--pipermail", f"{base}/{args.list}/"],
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*cli, "sync", "--json", "--workers", str(args.workers)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **env_backend},
        )
        with RssSampler(proc.pid) as sampler:
            out, err = proc.communicate()
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"sync failed ({proc.returncode}):\n{err.decode()[-3000:]}")
        result = json.loads(out)
        run = result["runs"][0]
        conn = sqlite3.connect(data_dir / "store.db")
        stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
        conn.close()
        print(f"backend            {args.backend}")
        print(f"volumes fetched    {run['volumes_fetched']} (failed {run['volumes_failed']})")
        print(
            f"messages stored    {stored} ({run['duplicates']} duplicates, "
            f"{run['quarantined']} quarantined), threads {threads}"
        )
        print(f"messages indexed   {result['indexed']}")
        print(f"wall time          {wall:.2f} s")
        archive = stored + run["duplicates"] + run["quarantined"]
        print(f"archive messages   {archive} (as split from the volumes, copies included)")
        print(
            f"throughput         {archive / wall:,.0f} archive msgs/s, "
            f"{stored / wall:,.0f} stored msgs/s"
        )
        print(f"peak RSS           {sampler.peak_kb / 1024:.0f} MB (sync process + workers)")
        if args.backend == "elasticsearch":
            side_by_side(data_dir, args.es_url, args.es_index)
    finally:
        server.terminate()
        if args.keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def side_by_side(data_dir: Path, es_url: str, es_index: str) -> None:
    """Rebuild both indexes from the same store and compare indexing throughput."""
    from search import indexer
    from search.factory import open_backend
    from store.store import Store

    store = Store(data_dir / "store.db")
    count = store.message_count()
    print(f"reindex from the store ({count} messages):")
    for kind in ("sqlite", "elasticsearch"):
        backend = open_backend(kind, data_dir, es_url, index_prefix=es_index)
        started = time.perf_counter()
        indexed = indexer.rebuild(store, backend, batch=2000)
        elapsed = time.perf_counter() - started
        backend.close()
        print(f"  {kind:<14} {indexed} docs in {elapsed:6.2f} s = {indexed / elapsed:,.0f} msgs/s")
    store.close()


if __name__ == "__main__":
    main()
