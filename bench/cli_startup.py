"""CLI start-up benchmark (issue 14): wall time of `listarchive search` and `lists` run from
the shell, as a user runs them (a new Python process each time), p50/p95 over repeated runs,
and what the process imported (the heavy modules it should not need).

    .venv/bin/python bench/ingest.py --keep /tmp/la-bench     # once, builds the store
    .venv/bin/python bench/cli_startup.py --data-dir /tmp/la-bench [--runs 30]
    .venv/bin/python -X importtime .venv/bin/listarchive --data-dir DIR lists 2>imports.txt
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LISTARCHIVE = REPO / ".venv" / "bin" / "listarchive"
HEAVY = ("httpx", "elasticsearch", "flask", "flanker", "ingest.sync", "ingest.http", "pandas")
PROBE = (
    "import sys; from listarchive.cli import main; sys.argv = ['listarchive', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "print('IMPORTED', *[m for m in {heavy!r} if m in sys.modules], file=sys.stderr)"
)

COMMANDS = {
    "search": ["search", "deferred reactor", "--limit", "5"],
    "search --json": ["search", "list:twisted-python after:2014-09-01", "--sort", "date", "--json"],
    "lists --json": ["lists", "--json"],
    "--help": ["--help"],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _env() -> dict[str, str]:
    """As an installed program runs: with compiled bytecode (a wheel install writes it).  A
    shell that sets PYTHONDONTWRITEBYTECODE would compile every module at each start; the
    bytecode goes to a cache outside the checkout."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", "/tmp/listarchive-bench-pycache")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    base = [str(LISTARCHIVE), "--data-dir", str(args.data_dir)]
    env = _env()
    for label, argv in COMMANDS.items():
        subprocess.run(
            base + argv, capture_output=True, check=False, env=env
        )  # warm the page cache
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(base + argv, capture_output=True, check=False, env=env)
            times.append((time.perf_counter() - started) * 1000)
        probe = subprocess.run(
            [sys.executable, "-c", PROBE.format(heavy=HEAVY), "--data-dir", str(args.data_dir)]
            + argv,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        imported = [
            line.split()[1:] for line in probe.stderr.splitlines() if line.startswith("IMPORTED")
        ]
        print(
            f"{label:<14} p50 {statistics.median(times):6.1f} ms  "
            f"p95 {percentile(times, 0.95):6.1f} ms  ({args.runs} runs)  heavy modules imported: "
            f"{', '.join(imported[0]) if imported and imported[0] else 'none'}"
        )
    bare = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=False, env=env)
        bare.append((time.perf_counter() - started) * 1000)
    print(f"{'python -c pass':<14} p50 {statistics.median(bare):6.1f} ms  (the floor)")


if __name__ == "__main__":
    main()
