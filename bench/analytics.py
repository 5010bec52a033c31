"""Statistics dashboards benchmark: server time (Flask test client, in process) of every
dashboard - `/stats` anonymous and logged in, and the facilitator pages - as HTML, JSON and CSV,
for the whole archive and a three-year window.  Target: p95 < 300 ms per dashboard (warm).

"cold" is the first request of a dashboard after the analytics caches were emptied (the
frame is loaded from SQLite again); "warm" the following `--rounds` requests (the frame and the
facts shared by the metrics are cached; the metrics themselves are computed each time).

    .venv/bin/python bench/analytics.py                      # syncs twisted-python first
    .venv/bin/python bench/analytics.py --data-dir /tmp/tw   # an existing store (copied)
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from flask.testing import FlaskClient  # noqa: E402

from analytics import facts  # noqa: E402
from analytics import frame as frames  # noqa: E402
from bench._common import TWISTED, serve  # noqa: E402
from config.settings import load_settings  # noqa: E402
from tests.support.webauth import login  # noqa: E402
from webui import create_app  # noqa: E402

logger = logging.getLogger(__name__)

P95_TARGET_MS = 300.0
PUBLIC = ("/stats",)
FACILITATOR = ("/stats", "/stats/people", "/stats/responses", "/stats/network", "/stats/cohorts")
SCOPES = {"all": "", "2010-2012": "start=2010-01-01&end=2012-12-31"}
FORMATS = ("", ".json", ".csv")


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def sync_into(data_dir: Path, list_name: str) -> None:
    """Sync `list_name` from the corpus, served over local HTTP, as bench/ingest.py does."""
    server, base = serve(TWISTED)
    cli = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir)]
    try:
        subprocess.run(
            [*cli, "lists", "add", list_name, "--pipermail", f"{base}/{list_name}/"],
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        subprocess.run([*cli, "sync", "--json"], check=True, capture_output=True)
        logger.info("synced %s in %.1f s", list_name, time.perf_counter() - started)
    finally:
        server.terminate()


def copy_store(source: Path, data_dir: Path) -> None:
    """A consistent copy of `source`/store.db (read-only; the original is never written)."""
    src = sqlite3.connect(f"file:{source / 'store.db'}?mode=ro", uri=True)
    dst = sqlite3.connect(data_dir / "store.db")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def clear_caches() -> None:
    facts.clear_cache()
    with frames._LOCK:
        frames._CACHE.clear()


def timed(client: FlaskClient, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"{url}: HTTP {response.status_code}")
    response.close()
    return elapsed


def run(data_dir: Path, rounds: int) -> bool:
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    anonymous = app.test_client()
    facilitator = app.test_client()
    login(facilitator, data_dir, "facilitator")
    plan = [("anonymous", anonymous, p) for p in PUBLIC]
    plan += [("facilitator", facilitator, p) for p in FACILITATOR]
    ok = True
    logger.info(
        "%-12s %-17s %-10s %-6s %9s %9s %9s %9s",
        "who",
        "dashboard",
        "scope",
        "format",
        "cold ms",
        "p50 ms",
        "p95 ms",
        "max ms",
    )
    for who, client, path in plan:
        for scope_name, query in SCOPES.items():
            for suffix in FORMATS:
                url = path + suffix + (f"?{query}" if query else "")
                clear_caches()
                cold = timed(client, url)
                warm = [timed(client, url) for _ in range(rounds)]
                p95 = nearest_rank(warm, 95)
                ok = ok and p95 < P95_TARGET_MS
                logger.info(
                    "%-12s %-17s %-10s %-6s %9.1f %9.1f %9.1f %9.1f%s",
                    who,
                    path,
                    scope_name,
                    suffix or ".html",
                    cold,
                    nearest_rank(warm, 50),
                    p95,
                    max(warm),
                    "" if p95 < P95_TARGET_MS else "  MISSED",
                )
    return ok


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="an existing data directory (copied)")
    parser.add_argument("--list", default="twisted-python", help="folder under the corpus")
    parser.add_argument("--rounds", type=int, default=10, help="warm requests per dashboard")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="listarchive-bench-analytics-"))
    try:
        if args.data_dir:
            if not (args.data_dir / "store.db").is_file():
                sys.exit(f"no store at {args.data_dir}")
            copy_store(args.data_dir, work)
        else:
            sync_into(work, args.list)
        conn = sqlite3.connect(work / "store.db")
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        conn.close()
        logger.info("store: %s messages; %d warm rounds", messages, args.rounds)
        ok = run(work, args.rounds)
        logger.info(
            "p95 target < %.0f ms per dashboard: %s", P95_TARGET_MS, "ok" if ok else "MISSED"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
