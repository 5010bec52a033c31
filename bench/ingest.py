"""End-to-end ingest benchmark: sync the twisted-python pipermail archive served over local
HTTP into a fresh data directory; prints messages/s, wall time and peak RSS.

    .venv/bin/python bench/ingest.py [--volumes N] [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
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
    args = parser.parse_args()

    server, base = serve(TWISTED)
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="listarchive-bench-"))
    if data_dir.exists():
        shutil.rmtree(data_dir)
    cli = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir)]
    env_backend = {"LISTARCHIVE_SEARCH_BACKEND": args.backend}
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
            env={**__import__("os").environ, **env_backend},
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
    finally:
        server.terminate()
        if args.keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
