"""Dashboards benchmark: server time (Flask test client, in process) of every dashboard -
`/stats` anonymous and logged in, the facilitator pages (statistics, persons, a person, merge
suggestions, meetings) and the secretariat pages (migration audit, rosters) - as HTML, JSON
and CSV, for the whole archive and a three-year window.  Target: p95 < 300 ms per dashboard
(warm).

The corpus has no migration, roster or meeting list of twisted-python, so the bench makes
them, at twisted scale and labelled synthetic: twisted-web is synced too and declared the
"new" list of a community with twisted-python (cutover 2012-01-01, closed 2013-01-01); each
list gets a roster (the addresses that posted in the year before, plus 25 that never posted);
a meeting lists the 40 busiest people's names (some written surname first, some as initials)
and 5 names nobody posted under; the first merge suggestion is confirmed.

"cold" is the first request of a dashboard after the analytics caches were emptied (the
frame is loaded from SQLite again, and the statistics figures kept in the store,
`store.figure_cache`, are forgotten: the first request after a change of the archive);
"warm" the following `--rounds` requests (the statistics pages read their figures back from
the store; other dashboards compute on the cached frame each time).

    .venv/bin/python bench/analytics.py                      # syncs twisted-python first
    .venv/bin/python bench/analytics.py --data-dir /tmp/tw   # an existing store (copied)
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sqlite3
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
from bench.organisation import busiest, cli, import_rosters, nearest_rank, posters  # noqa: E402
from config.settings import load_settings  # noqa: E402
from store import figure_cache  # noqa: E402
from tests.support.webauth import login  # noqa: E402
from webui import create_app  # noqa: E402

logger = logging.getLogger(__name__)

P95_TARGET_MS = 300.0
PUBLIC = ("/stats",)
FACILITATOR = (
    "/stats",
    "/stats/people",
    "/stats/responses",
    "/stats/network",
    "/stats/cohorts",
    "/persons",
    "/persons/{top}",
    "/persons/suggestions",
    "/persons/events",
    "/meetings",
    "/meetings/sprint",
)
SECRETARIAT = (
    "/audit",
    "/audit/twisted",
    "/rosters",
    "/rosters/twisted-python",
    "/rosters/community/twisted",
)
UNSCOPED = ("/persons", "/meetings", "/audit", "/rosters")
"""Pages without the statistics' date parameters: timed once, for the whole archive."""
SCOPES = {"all": "", "2010-2012": "start=2010-01-01&end=2012-12-31"}
FORMATS = ("", ".json", ".csv")


def sync_into(data_dir: Path, *list_names: str) -> None:
    """Sync lists from the corpus, served over local HTTP, as bench/ingest.py does."""
    server, base = serve(TWISTED)
    try:
        for name in list_names:
            cli(data_dir, "lists", "add", name, "--pipermail", f"{base}/{name}/")
            started = time.perf_counter()
            cli(data_dir, "sync", name, "--json", "--no-prepare")  # ingest only
            logger.info("synced %s in %.1f s", name, time.perf_counter() - started)
    finally:
        server.terminate()


def people_data(data_dir: Path) -> str:
    """The synthetic community, rosters and meeting (see the module doc); returns the key of
    the busiest person."""
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        if not conn.execute("SELECT 1 FROM lists WHERE name = 'twisted-web'").fetchone():
            conn.close()
            sync_into(data_dir, "twisted-web")
            conn = sqlite3.connect(data_dir / "store.db")
        old_roster = posters(conn, "twisted-python", 2011)
        new_roster = posters(conn, "twisted-web", 2012)
        most = busiest(conn)
    finally:
        conn.close()
    cli(data_dir, "communities", "add", "twisted", "--lists", "twisted-python,twisted-web",
        "--old", "twisted-python", "--new", "twisted-web", "--cutover", "2012-01-01",
        "--closed", "2013-01-01")  # fmt: skip
    import_rosters(
        data_dir,
        (("twisted-python", old_roster, "2012-01-01"), ("twisted-web", new_roster, "2013-01-01")),
    )
    names = []
    for i, (_key, name) in enumerate(most):
        words = str(name).split()
        if i % 5 == 1 and len(words) > 1:
            name = " ".join(reversed(words))
        elif i % 5 == 2 and len(words) > 1:
            name = f"{words[0][0]}. {' '.join(words[1:])}"
        names.append(str(name))
    names += ["Ada Example", "Grace Sample", "Alan Placeholder", "Edsger Nobody", "Barbara Nil"]
    meeting = data_dir / "sprint.txt"
    meeting.write_text("Participants\n\n" + "\n".join(names) + "\n")
    cli(data_dir, "meetings", "import", "sprint", str(meeting), "--tag", "volunteer: sprint")
    suggested = json.loads(cli(data_dir, "persons", "suggestions", "--json"))
    if suggested:  # one confirmed merge, so the merge record has something to show
        cli(data_dir, "persons", "merge", *suggested[0]["persons"])
    logger.info("%d merge suggestions in the store", len(suggested))
    return most[0][0]


def copy_store(source: Path, data_dir: Path) -> None:
    """A consistent copy of `source`/store.db (read-only; the original is never written)."""
    src = sqlite3.connect(f"file:{source / 'store.db'}?mode=ro", uri=True)
    dst = sqlite3.connect(data_dir / "store.db")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def clear_caches(data_dir: Path) -> None:
    facts.clear_cache()
    with frames._LOCK:
        frames._CACHE.clear()
    conn = sqlite3.connect(data_dir / "store.db")  # the figures kept in the store (a copy)
    try:
        figure_cache.clear(conn)
    finally:
        conn.close()


def timed(client: FlaskClient, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"{url}: HTTP {response.status_code}")
    response.close()
    return elapsed


def run(data_dir: Path, rounds: int, top: str) -> bool:
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    anonymous = app.test_client()
    facilitator = app.test_client()
    secretariat = app.test_client()
    login(facilitator, data_dir, "facilitator")
    login(secretariat, data_dir, "secretariat")
    plan = [("anonymous", anonymous, p) for p in PUBLIC]
    plan += [("facilitator", facilitator, p.format(top=top)) for p in FACILITATOR]
    plan += [("secretariat", secretariat, p) for p in SECRETARIAT]
    ok = True
    logger.info(
        "%-12s %-28s %-10s %-6s %9s %9s %9s %9s",
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
            if path.startswith(UNSCOPED) and query:
                continue
            for suffix in FORMATS:
                url = path + suffix + (f"?{query}" if query else "")
                clear_caches(data_dir)
                cold = timed(client, url)
                warm = [timed(client, url) for _ in range(rounds)]
                p95 = nearest_rank(warm, 95)
                ok = ok and p95 < P95_TARGET_MS
                logger.info(
                    "%-12s %-28s %-10s %-6s %9.1f %9.1f %9.1f %9.1f%s",
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
    parser.add_argument("--rounds", type=int, default=10, help="warm requests per dashboard")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="listarchive-bench-analytics-"))
    try:
        if args.data_dir:
            if not (args.data_dir / "store.db").is_file():
                sys.exit(f"no store at {args.data_dir}")
            copy_store(args.data_dir, work)
        else:
            sync_into(work, "twisted-python")
        top = people_data(work)
        conn = sqlite3.connect(work / "store.db")
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        conn.close()
        logger.info("store: %s messages; %d warm rounds", messages, args.rounds)
        ok = run(work, args.rounds, top)
        logger.info(
            "p95 target < %.0f ms per dashboard: %s", P95_TARGET_MS, "ok" if ok else "MISSED"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
