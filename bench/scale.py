"""Scale benchmark (issue 14): stores of 100k, 300k and 1M messages built from real corpus
messages (see `bench/scale_build.py`: rewritten ids, dates spread over years, three lists a
project, a community with a cutover, senders from the real ones), synced by the product's
own `listarchive sync` from local mbox files, then measured:

- sync: wall, CPU of the process tree, msgs/s, peak RSS of the tree (sync + parser workers);
- disk: the data directory (store + FTS index) against the mbox bytes;
- search p50/p95 of `bench/search.py`'s queries, FTS5, and Elasticsearch when a node answers
  at LISTARCHIVE_TEST_ES_URL / http://127.0.0.1:9200 (own indices, deleted afterwards);
- every analytics dashboard: cold (the first request of a fresh web process, one process a
  dashboard, the statistics figures and frame snapshots the store keeps emptied first, as
  after a sync), restart (a fresh process again, those figures kept), cold from a snapshot
  (a fresh process, the figures emptied, the frame snapshot the cold request wrote kept: a
  sync's new state once the scheduler prepared it), warm (the next requests of one process
  serving them all), and that web process's RSS after all dashboards;
- one message appended to a list's mbox: `sync NAME`, and `sync` of all lists.

Targets at 1M are printed beside the figures.  When a size is built, `<out>/<size>/READY`
is written (the data directory is `<out>/<size>/data`) so that others can use the store.

    .venv/bin/python bench/scale.py --sizes 100k,300k,1M --out /tmp/scale [--json] [--no-es]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

import httpx  # noqa: E402

from bench.bigmbox import CpuSampler, entries  # noqa: E402
from bench.organisation import cli, nearest_rank  # noqa: E402
from bench.scale_build import organisation, pool, variant, write_mboxes  # noqa: E402
from bench.scale_web import dashboards, run_child, search_figures  # noqa: E402

logger = logging.getLogger(__name__)

TARGETS = {
    "search_p95_ms": 100.0,
    "dash_warm_p95_ms": 300.0,
    "dash_cold_ms": 2000.0,
    "worker_rss_mb": 1024.0,
    "one_message_s": 2.0,
}
WARM_ROUNDS = 5
QUICK_COLD = ("/stats", "/stats/people", "/stats/network", "/audit/p00", "/rosters/community/p00")
"""--quick: the dashboards timed cold (the others only warm), each once, no restart figure."""


def parse_size(text: str) -> int:
    units = {"K": 10**3, "M": 10**6}
    last = text[-1:].upper()
    return int(float(text[:-1]) * units[last]) if last in units else int(text)


def measured_sync(data_dir: Path, *names: str) -> dict[str, Any]:
    """One `listarchive sync --json` (all lists, or `names`), measured as bigmbox.py does."""
    command = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir)]
    command += ["sync", "--json", "--no-prepare", "--workers", "2", *names]  # ingest only
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = CpuSampler(proc.pid, interval=0.05)
    with sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        runs = json.loads(out)["runs"]
    except ValueError:
        sys.exit(f"sync failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    new = sum(int(run["new_messages"]) for run in runs)
    return {
        "wall_s": wall,
        "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "sync_process_cpu_s": sampler.own_cpu,
        "peak_tree_rss_mb": sampler.peak_kb / 1024,
        "new": new,
        "duplicates": sum(int(run["duplicates"]) for run in runs),
        "quarantined": sum(int(run["quarantined"]) for run in runs),
        "msgs_s": new / wall if wall else 0.0,
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def build(folder: Path, total: int) -> dict[str, Any]:
    """mbox files, lists, one sync of them all, the organisation data; writes READY."""
    data_dir = folder / "data"
    started = time.perf_counter()
    paths = write_mboxes(folder / "mbox", total)
    figures: dict[str, Any] = {"generate_s": time.perf_counter() - started, "lists": len(paths)}
    figures["mbox_bytes"] = sum(path.stat().st_size for path in paths.values())
    logger.info("%d messages in %d mbox files, %.0f MB, %.0f s", total, len(paths),
                figures["mbox_bytes"] / 1e6, figures["generate_s"])  # fmt: skip
    for name, path in paths.items():
        cli(data_dir, "lists", "add", name, "--mbox", str(path))
    figures["sync"] = measured_sync(data_dir)
    logger.info("sync: %s", figures["sync"])
    started = time.perf_counter()
    organisation(data_dir)
    figures["organisation_s"] = time.perf_counter() - started
    (folder / "build.json").write_text(json.dumps(figures, indent=1))
    (folder / "READY").write_text(f"{data_dir}\n")
    return figures


def disk(data_dir: Path) -> dict[str, float]:
    files = {path.name: path.stat().st_size for path in data_dir.iterdir() if path.is_file()}
    store = sum(size for name, size in files.items() if name.startswith("store.db"))
    index = sum(size for name, size in files.items() if name.startswith("search-fts.db"))
    return {"store_mb": store / 1e6, "index_mb": index / 1e6, "total_mb": sum(files.values()) / 1e6}


def elasticsearch(data_dir: Path, url: str, label: str) -> dict[str, float] | None:
    try:
        httpx.get(f"{url}/_cluster/health", timeout=5).raise_for_status()
    except httpx.HTTPError:
        logger.info("no Elasticsearch node at %s: skipped", url)
        return None
    prefix = f"scale-bench-{label.lower()}-{os.getpid()}"
    try:
        figures = search_figures(data_dir, "elasticsearch", url, prefix)
        stats = httpx.get(f"{url}/{prefix}*/_stats/store", timeout=30).json()
        figures["disk_mb"] = stats["_all"]["primaries"]["store"]["size_in_bytes"] / 1e6
        return figures
    finally:
        listed = httpx.get(f"{url}/_cat/indices/{prefix}*?format=json", timeout=30).json()
        for index in listed:
            httpx.delete(f"{url}/{index['index']}", timeout=60).raise_for_status()


def clear_kept(data_dir: Path, *tables: str) -> None:
    """Empties what the store keeps in `tables` (`figure_cache`: the statistics figures;
    `frame_snapshots`: the frames, `store.frame_snapshots`), as a sync's new state does
    (the snapshots until the next frame load or the scheduler's preparation)."""
    conn = sqlite3.connect(data_dir / "store.db", timeout=30)
    try:
        for table in tables:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
                with conn:
                    conn.execute(f"DELETE FROM {table}")
    finally:
        conn.close()


def web(data_dir: Path, quick: bool = False) -> dict[str, Any]:
    """cold: a fresh process, the store's figures and frame snapshots emptied (it loads the
    frame from the messages and writes its snapshot); restart: a fresh process, the figures
    the cold request kept in the store; cold from a snapshot: a fresh process, the figures
    emptied, the frame snapshot kept (a sync's new state after the scheduler's preparation,
    or a second worker); warm: one process serving them all."""
    urls = dashboards(data_dir)
    cold, restart, snapshot = {}, {}, {}
    for url in urls:
        if quick and url.partition(":")[2] not in QUICK_COLD:
            continue
        clear_kept(data_dir, "figure_cache", "frame_snapshots")
        cold[url] = run_child(data_dir, 0, [url])["pages"][url]["first_ms"]
        if not quick:
            restart[url] = run_child(data_dir, 0, [url])["pages"][url]["first_ms"]
        clear_kept(data_dir, "figure_cache")
        snapshot[url] = run_child(data_dir, 0, [url])["pages"][url]["first_ms"]
        logger.info("cold %-50s %8.0f ms, restart %s ms, from a snapshot %8.0f ms",
                    url, cold[url], restart.get(url), snapshot[url])  # fmt: skip
    clear_kept(data_dir, "figure_cache")
    warm = run_child(data_dir, 2 if quick else WARM_ROUNDS, urls)
    pages = {}
    for url in urls:
        page = warm["pages"][url]
        pages[url] = {
            "status": page["status"],
            "cold_ms": cold.get(url),
            "restart_ms": restart.get(url),
            "cold_snapshot_ms": snapshot.get(url),
            "first_in_worker_ms": page["first_ms"],
            "warm_p50_ms": nearest_rank(page["warm_ms"], 50),
            "warm_p95_ms": nearest_rank(page["warm_ms"], 95),
            "first_in_worker_cpu_ms": page["first_cpu_ms"],
            "warm_cpu_p50_ms": nearest_rank(page["warm_cpu_ms"], 50),
            "warm_cpu_p95_ms": nearest_rank(page["warm_cpu_ms"], 95),
        }
        logger.info("%-50s %s", url, pages[url])
    memory = warm["memory_kb"]
    return {
        "pages": pages,
        "worker_rss_mb": memory["VmRSS"] / 1024,
        "worker_peak_rss_mb": memory["VmHWM"] / 1024,
        "cold_max_ms": max(cold.values()),
        "cold_snapshot_max_ms": max(snapshot.values()),
        "restart_max_ms": max(restart.values()) if restart else None,
        "warm_p95_max_ms": max(page["warm_p95_ms"] for page in pages.values()),
        "all_warm_p95_ms": nearest_rank(
            [t for p in warm["pages"].values() for t in p["warm_ms"]], 95
        ),
    }


def one_message(folder: Path, copy: int) -> dict[str, Any]:
    """Appends one new message to p01-python (or p00-python-ng) and syncs that list, then
    all lists (nothing new anywhere else)."""
    data_dir = folder / "data"
    name = "p01-python" if (folder / "mbox" / "p01-python.mbox").exists() else "p00-python-ng"
    raw = pool()["python"][7]
    tag = f"appended{time.time_ns()}".encode()  # a new message each time this runs
    extra = next(entries([variant(raw, 90 + copy)], 1, tag))
    with (folder / "mbox" / f"{name}.mbox").open("ab") as handle:
        handle.write(extra)
    one = measured_sync(data_dir, name)
    every = measured_sync(data_dir)
    return {"list": name, "sync_list": one, "sync_all": every}


def measure(folder: Path, label: str, es_url: str, use_es: bool, quick: bool) -> dict[str, Any]:
    data_dir = folder / "data"
    result: dict[str, Any] = {
        "size": label,
        "build": json.loads((folder / "build.json").read_text()),
    }
    result["load_start"] = os.getloadavg()
    result["disk"] = disk(data_dir)
    result["search_fts5"] = search_figures(data_dir, "sqlite", "", "")
    logger.info("fts5 %s", result["search_fts5"])
    result["search_es"] = elasticsearch(data_dir, es_url, label) if use_es else None
    logger.info("es %s", result["search_es"])
    result["quick"] = quick
    result["web"] = web(data_dir, quick)
    result["one_message"] = one_message(folder, len(list((folder / "mbox").glob("*.mbox"))))
    result["load_end"] = os.getloadavg()
    (folder / "result.json").write_text(json.dumps(result, indent=1))
    return result


def row(result: dict[str, Any]) -> list[str]:
    sync, build, web_ = result["build"]["sync"], result["build"], result["web"]
    es = result["search_es"]
    one = result["one_message"]
    total = result["disk"]["total_mb"]
    return [
        result["size"],
        f"{sync['new']:,}",
        f"{build['lists']}",
        f"{sync['wall_s']:.0f} s / {sync['cpu_s']:.0f} s CPU",
        f"{sync['msgs_s']:,.0f}",
        f"{sync['peak_tree_rss_mb']:.0f} MB",
        f"{total:,.0f} MB ({total * 1e6 / build['mbox_bytes']:.2f}x mbox)",
        f"{result['search_fts5']['p50_ms']:.1f} / {result['search_fts5']['p95_ms']:.1f} ms",
        f"{es['p50_ms']:.1f} / {es['p95_ms']:.1f} ms" if es else "-",
        f"{web_['cold_max_ms']:,.0f} / {web_.get('restart_max_ms') or 0:,.0f} ms"
        if web_.get("restart_max_ms")
        else f"{web_['cold_max_ms']:,.0f} ms / -",
        f"{web_['cold_snapshot_max_ms']:,.0f} ms" if "cold_snapshot_max_ms" in web_ else "-",
        f"{web_['warm_p95_max_ms']:,.0f} ms",
        f"{web_['worker_rss_mb']:.0f} MB (peak {web_['worker_peak_rss_mb']:.0f})",
        f"{one['sync_list']['wall_s']:.2f} s (all lists {one['sync_all']['wall_s']:.1f} s)",
        f"{result['load_start'][0]:.1f}-{result['load_end'][0]:.1f}",
    ]


HEADER = ["size", "stored", "lists", "sync wall / CPU", "msgs/s", "sync peak RSS", "disk",
          "FTS5 p50/p95", "ES p50/p95", "dash cold/restart", "dash cold, snapshot",
          "dash warm p95 max", "worker RSS",
          "+1 message", "load"]  # fmt: skip
TARGET_ROW = ["1M target", "", "", "", "", "", "", "p95 < 100 ms", "p95 < 100 ms", "< 2,000 ms",
              "< 2,000 ms", "< 300 ms", "< 1,024 MB", "< 2 s", ""]  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in ("elastic_transport", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,300k,1M")
    parser.add_argument("--out", type=Path, default=Path("/tmp/scale"))
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-es", action="store_true", help="skip Elasticsearch")
    parser.add_argument("--build-only", action="store_true", help="build, do not measure")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer cold dashboards and warm rounds (1M on a busy machine)",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild sizes already built")
    args = parser.parse_args()
    es_url = os.environ.get("LISTARCHIVE_TEST_ES_URL", "http://127.0.0.1:9200")
    results = []
    for label in args.sizes.split(","):
        folder = args.out / label
        if args.rebuild or not (folder / "READY").exists():
            if folder.exists():
                subprocess.run(["rm", "-rf", str(folder)], check=True)
            build(folder, parse_size(label))
        if not args.build_only:
            results.append(measure(folder, label, es_url, not args.no_es, args.quick))
    if args.json:
        print(json.dumps(results, indent=1))
    elif results:
        table = [HEADER, *map(row, results), TARGET_ROW]
        widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
        for line in table:
            print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
