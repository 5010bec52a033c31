"""End-to-end ingest benchmark: sync the twisted-python pipermail archive served over local
HTTP into a fresh data directory; prints messages/s, wall time and peak RSS.

With `--backend elasticsearch` the sync indexes into Elasticsearch (`--es-url`, default
$LISTARCHIVE_SEARCH_URL or http://127.0.0.1:9200), and then both backends are rebuilt from the
same store side by side, to compare indexing throughput.

With `--compare` (issue 14) the same run also times, over the same `.txt.gz` files: the bare
stdlib parse (gunzip + split on From_ lines + `email` parse with `policy.default` + decode of
every text part; in this process, one core) and, with `--perceval-python PATH` (a Python that
has perceval installed, e.g. a throw-away venv: perceval is never a project dependency), the
parse-only time of perceval's MBox backend over local copies; it prints each time, CPU seconds,
msgs/s and the ratios.  CPU seconds of our sync are those of the sync process and its workers.

With `--profile FILE` the sync runs under cProfile with a CPU-time clock (`bench/cpu_profile.py`:
the sync process only; with `--workers 1` the parser runs inline, so the one profile holds
both); the top functions are printed.

    .venv/bin/python bench/ingest.py [--list NAME] [--workers N] [--keep DIR]
    .venv/bin/python bench/ingest.py --compare [--perceval-python /tmp/perceval-venv/bin/python]
    .venv/bin/python bench/ingest.py --profile /tmp/sync.prof
    .venv/bin/python bench/ingest.py --backend elasticsearch --es-url http://127.0.0.1:9200
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pstats
import re
import resource
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

_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)

_PERCEVAL_SCRIPT = """
import json, sys, time
from perceval.backends.core.mbox import MBox
wall, cpu = time.perf_counter(), time.process_time()
count = sum(1 for _ in MBox("file://bench", sys.argv[1]).fetch())
print(json.dumps({"count": count, "wall": time.perf_counter() - wall,
                  "cpu": time.process_time() - cpu}))
"""


class CpuSampler(RssSampler):
    """The CPU seconds the process itself used (not its workers), last seen before it ended."""

    seconds = 0.0

    def _run(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            try:
                with open(f"/proc/{self.pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                self.seconds = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(self.interval)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stdlib_parse(files: list[Path]) -> tuple[int, float, float]:
    """The bare stdlib baseline: (messages, wall s, CPU s) to gunzip, split on From_ lines,
    parse with `policy.default` and decode every text part of every message."""
    from email import policy
    from email.parser import BytesParser

    parser = BytesParser(policy=policy.default)
    wall, cpu = time.perf_counter(), time.process_time()
    count = 0
    for path in files:
        text = gzip.decompress(path.read_bytes())
        starts = [match.start() for match in _FROM_LINE.finditer(text)]
        for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
            raw = text[begin:end]
            msg = parser.parsebytes(raw[raw.find(b"\n") + 1 :])
            for part in msg.walk():
                if part.get_content_maintype() == "text":
                    try:
                        part.get_content()
                    except (LookupError, ValueError, AssertionError):
                        part.get_payload(decode=True)
            count += 1
    return count, time.perf_counter() - wall, time.process_time() - cpu


def perceval_parse(python: str, files: list[Path]) -> dict[str, float] | None:
    """perceval's MBox backend over local copies of `files` (parse only, no HTTP)."""
    with tempfile.TemporaryDirectory(prefix="listarchive-perceval-") as folder:
        for path in files:
            os.symlink(path, Path(folder) / path.name)
        done = subprocess.run(
            [python, "-c", _PERCEVAL_SCRIPT, folder], capture_output=True, text=True
        )
    if done.returncode != 0:
        print(f"perceval failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_profile(path: Path, top: int = 25) -> None:
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


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
    parser.add_argument("--compare", action="store_true", help="also time stdlib/perceval")
    parser.add_argument("--perceval-python", help="a Python with perceval installed")
    parser.add_argument("--profile", type=Path, help="profile the sync process into FILE")
    args = parser.parse_args()
    files = sorted((TWISTED / args.list).glob("*.txt.gz"))
    baseline = perceval = None
    if args.compare:
        baseline = stdlib_parse(files)
        if args.perceval_python:
            perceval = perceval_parse(args.perceval_python, files)

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
        sync = [*cli, "sync", "--json", "--no-prepare", "--workers", str(args.workers)]
        if args.profile:
            runner = str(Path(__file__).with_name("cpu_profile.py"))
            sync = [sys.executable, runner, str(args.profile), *sync[1:]]
        started, cpu_before = time.perf_counter(), _children_cpu()
        proc = subprocess.Popen(
            sync,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **env_backend},
        )
        own = CpuSampler(proc.pid)
        with RssSampler(proc.pid) as sampler, own:
            out, err = proc.communicate()
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
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
        print(
            f"wall time          {wall:.2f} s ({cpu:.2f} s CPU, sync process + workers: "
            f"{own.seconds:.2f} s in the sync process)"
        )
        archive = stored + run["duplicates"] + run["quarantined"]
        print(f"archive messages   {archive} (as split from the volumes, copies included)")
        print(
            f"throughput         {archive / wall:,.0f} archive msgs/s, "
            f"{stored / wall:,.0f} stored msgs/s"
        )
        print(f"peak RSS           {sampler.peak_kb / 1024:.0f} MB (sync process + workers)")
        print(f"load average       {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if baseline is not None:
            compare(archive, wall, cpu, baseline, perceval)
        if args.profile:
            print_profile(args.profile)
        if args.backend == "elasticsearch":
            side_by_side(data_dir, args.es_url, args.es_index)
    finally:
        server.terminate()
        if args.keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def compare(
    archive: int,
    wall: float,
    cpu: float,
    baseline: tuple[int, float, float],
    perceval: dict[str, float] | None,
) -> None:
    """Print the three figures side by side and the ratios (> 1: the other one is slower)."""
    count, base_wall, base_cpu = baseline
    print("compare (same .txt.gz files; ratio = their time / our time, > 1: we are faster)")
    rows = [
        ("ours: sync over HTTP", archive, wall, cpu),
        ("stdlib parse", count, base_wall, base_cpu),
    ]
    if perceval is not None:
        rows.append(
            ("perceval parse-only", int(perceval["count"]), perceval["wall"], perceval["cpu"])
        )
    for name, msgs, took, used in rows:
        print(
            f"  {name:<22} {msgs:>7} msgs  {took:7.2f} s wall  {used:7.2f} s CPU  "
            f"{msgs / took:7,.0f} msgs/s  wall ratio {took / wall:5.2f}  "
            f"CPU ratio {used / cpu:5.2f}"
        )
    print(f"  ours vs stdlib: {wall / base_wall:.2f}x its wall time, {cpu / base_cpu:.2f}x its CPU")
    if perceval is not None:
        rate = (archive / wall) / (perceval["count"] / perceval["wall"])
        print(f"  ours vs perceval parse-only: {rate:.2f}x its msgs/s")


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
