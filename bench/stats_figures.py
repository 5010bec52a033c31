"""Statistics dashboards with and without the figures kept in the store (issue 14,
`webui.stats_figures`): one fresh process per run, the Flask test client, each dashboard's
first request and ROUNDS more, wall and CPU milliseconds, and the process's RSS at the end.

    .venv/bin/python bench/stats_figures.py DATA_DIR MODE [--rounds 3]

DATA_DIR is a data directory built by `bench/scale.py` (its facilitator account and
`scale-names.json` are used; work on a copy: the figure cache of its store is written).
MODE: `off` (the frame path alone: the code before the figure cache), `clear` (the kept
figures forgotten first: the first request after a change of the archive), `on` (whatever the
store holds: after a `clear` run, a new worker finding the figures kept), `prepare` (the
scheduler's preparation, `webui.stats_prepare`, timed after forgetting the kept figures).
Run `uptime` beside it: wall times on a shared machine follow its load; compare the CPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.scale_build import FACILITATOR  # noqa: E402
from config.settings import load_settings  # noqa: E402
from store import figure_cache  # noqa: E402
from tests.support.webauth import login  # noqa: E402
from webui import create_app  # noqa: E402

PAGES = (
    ("anonymous", "/stats?scope=all"),
    ("facilitator", "/stats?scope=all"),
    ("facilitator", "/stats?scope=all&start=2010-01-01&end=2012-12-31"),
    ("facilitator", "/stats/people"),
    ("facilitator", "/stats/responses"),
    ("facilitator", "/stats/network"),
    ("facilitator", "/stats/cohorts"),
    ("facilitator", "/persons/suggestions"),
    ("facilitator", "/persons/bots"),
)


def _cpu_ms() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return (used.ru_utime + used.ru_stime) * 1000


def _rss_kb() -> dict[str, int]:
    with open("/proc/self/status") as fh:
        return {
            line.split(":")[0]: int(line.split()[1])
            for line in fh
            if line.startswith(("VmRSS:", "VmHWM:"))
        }


def _forget(data_dir: Path) -> None:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        figure_cache.clear(conn)
    finally:
        conn.close()


def run(data_dir: Path, mode: str, rounds: int) -> dict[str, Any]:
    if mode in ("clear", "prepare"):
        _forget(data_dir)
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    app.config["STATS_FIGURE_CACHE"] = mode != "off"
    report: dict[str, Any] = {"mode": mode, "pages": {}}
    if mode == "prepare":
        from webui.stats_prepare import prepare

        wall, cpu = time.perf_counter(), _cpu_ms()
        report["prepared"] = prepare(app)
        report["prepare_ms"] = (time.perf_counter() - wall) * 1000
        report["prepare_cpu_ms"] = _cpu_ms() - cpu
        report["memory_kb"] = _rss_kb()
        return report
    clients = {"anonymous": app.test_client(), "facilitator": app.test_client()}
    login(clients["facilitator"], data_dir, "facilitator", username=FACILITATOR, create=False)
    for who, url in PAGES:
        times = []
        for _ in range(rounds + 1):
            wall, cpu = time.perf_counter(), _cpu_ms()
            response = clients[who].get(url)
            response.get_data()
            times.append(((time.perf_counter() - wall) * 1000, _cpu_ms() - cpu))
            if response.status_code != 200:
                sys.exit(f"{who} {url}: HTTP {response.status_code}")
        report["pages"][f"{who} {url}"] = {
            "first_ms": times[0][0],
            "first_cpu_ms": times[0][1],
            "warm_ms": [t[0] for t in times[1:]],
            "warm_cpu_ms": [t[1] for t in times[1:]],
        }
    report["memory_kb"] = _rss_kb()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("mode", choices=("off", "clear", "on", "prepare"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.data_dir, args.mode, args.rounds), indent=1))


if __name__ == "__main__":
    main()
