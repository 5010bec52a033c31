"""The measuring parts of `bench/scale.py`: search latency (FTS5, Elasticsearch) and the
analytics dashboards, served by one web worker (the Flask app in a process of its own).

    .venv/bin/python bench/scale_web.py DATA_DIR ROUNDS URL...   # prints JSON; URL: who:/path

A child process builds the app, logs in (not timed), requests each URL once ("first": for
the first URL of a fresh process, the cold figure) and ROUNDS times more ("warm"), then
reports its own resident memory (VmRSS now, VmHWM the peak); each request's CPU time (the
process's, `time.process_time`) is reported beside its wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.organisation import nearest_rank  # noqa: E402
from bench.scale_build import FACILITATOR, SECRETARIAT  # noqa: E402

DASHBOARDS = (
    "anonymous:/stats",
    "facilitator:/stats",
    "facilitator:/stats?start=2010-01-01&end=2012-12-31",
    "facilitator:/stats/people",
    "facilitator:/stats/responses",
    "facilitator:/stats/network",
    "facilitator:/stats/cohorts",
    "facilitator:/persons",
    "facilitator:/persons/{top}",
    "facilitator:/persons/suggestions",
    "facilitator:/persons/events",
    "facilitator:/persons/bots",
    "facilitator:/meetings",
    "facilitator:/meetings/sprint",
    "secretariat:/audit",
    "secretariat:/audit/{community}",
    "secretariat:/rosters",
    "secretariat:/rosters/{roster}",
    "secretariat:/rosters/community/{community}",
)
"""Every analytics page of the web UI (HTML; the JSON twins compute the same figures)."""


def dashboards(data_dir: Path) -> list[str]:
    names = json.loads((data_dir / "scale-names.json").read_text())
    return [entry.format(**names) for entry in DASHBOARDS]


def run_child(data_dir: Path, rounds: int, urls: list[str]) -> dict[str, Any]:
    """Runs this module in a fresh process; returns its JSON report."""
    command = [sys.executable, __file__, str(data_dir), str(rounds), *urls]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def search_figures(data_dir: Path, kind: str, es_url: str, prefix: str) -> dict[str, float]:
    """p50/p95/max (ms) of bench/search.py's queries, 2 rounds x 2 sorts; for Elasticsearch
    the index is built first (seconds and msgs/s reported) into `prefix` indices."""
    from bench.search import queries
    from search import indexer
    from search.factory import open_backend
    from store.store import Store

    backend = open_backend(kind, data_dir, es_url, index_prefix=prefix)
    figures: dict[str, float] = {}
    store = Store(data_dir / "store.db")
    try:
        if backend.count() != store.message_count():
            started = time.perf_counter()
            indexer.rebuild(store, backend)
            figures["index_s"] = time.perf_counter() - started
            figures["index_msgs_s"] = store.message_count() / figures["index_s"]
    finally:
        store.close()
    listed = [q.replace("list:twisted-python", "list:p01-python") for q in queries()]
    for q in listed:  # warm caches once
        backend.search(q, limit=20)
    times: list[float] = []
    for _round in range(2):
        for q in listed:
            for sort in ("relevance", "date"):
                started = time.perf_counter()
                backend.search(q, limit=20, sort=sort)
                times.append((time.perf_counter() - started) * 1000)
    backend.close()
    figures.update(
        queries=len(listed),
        p50_ms=nearest_rank(times, 50),
        p95_ms=nearest_rank(times, 95),
        max_ms=max(times),
    )
    return figures


def _memory_kb() -> dict[str, int]:
    found = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1])
    return found


def child(data_dir: Path, rounds: int, urls: list[str]) -> dict[str, Any]:
    from config.settings import load_settings
    from tests.support.webauth import login
    from webui import create_app

    started = time.perf_counter()
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    clients = {"anonymous": app.test_client()}
    clients["facilitator"] = app.test_client()
    clients["secretariat"] = app.test_client()
    login(clients["facilitator"], data_dir, "facilitator", username=FACILITATOR, create=False)
    login(clients["secretariat"], data_dir, "secretariat", username=SECRETARIAT, create=False)
    report: dict[str, Any] = {"app_s": time.perf_counter() - started, "pages": {}}
    for entry in urls:
        who, _sep, url = entry.partition(":")
        client = clients[who]
        times, cpu = [], []
        status = 0
        for _ in range(rounds + 1):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            response.get_data()
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            status = response.status_code
            response.close()
        report["pages"][entry] = {
            "status": status,
            "first_ms": times[0],
            "warm_ms": times[1:],
            "first_cpu_ms": cpu[0],
            "warm_cpu_ms": cpu[1:],
        }
    report["memory_kb"] = _memory_kb()
    return report


if __name__ == "__main__":
    print(json.dumps(child(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])))
