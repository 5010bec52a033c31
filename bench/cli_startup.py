"""CLI start-up benchmark (issue 14): wall and CPU time of `listarchive search` and `lists` run
from the shell, as a user runs them (a new Python process each time), p50/p95 over repeated
runs, and what the process imported (the heavy modules it should not need).

    .venv/bin/python bench/ingest.py --keep /tmp/la-bench     # once, builds the store
    .venv/bin/python bench/cli_startup.py --data-dir /tmp/la-bench [--runs 30]
    .venv/bin/python -X importtime .venv/bin/listarchive --data-dir DIR lists 2>imports.txt

With `--baseline DIR` (a checkout of another commit: `git worktree add --detach DIR COMMIT`)
each command is also run from that checkout (`PYTHONPATH=DIR`, the same venv), alternating
one run of each, so that both see the same load; `python -c pass` is timed in the same loop.
`--this DIR` runs the measured code from a checkout too (default: this working tree);
`--baseline-data-dir` gives the baseline its own store when the schema changed between the two.
The machine's load average is printed: on a shared machine compare within one run, and CPU
milliseconds (user + system of the child) more than wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _env(checkout: Path | None = None) -> dict[str, str]:
    """As an installed program runs: with compiled bytecode (a wheel install writes it).  A
    shell that sets PYTHONDONTWRITEBYTECODE would compile every module at each start; the
    bytecode goes to a cache outside the checkout."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", "/tmp/listarchive-bench-pycache")
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    else:
        env.pop("PYTHONPATH", None)
    return env


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run of `argv`, which must succeed (a
    command that fails early, e.g. on an index it cannot read, would time its error)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, check=False, env=env, cwd="/")
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def heavy_imported(argv: list[str], env: dict[str, str]) -> str:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd="/",  # not the checkout: `-c` puts the working directory first on sys.path
    )
    imported = [
        line.split()[1:] for line in probe.stderr.splitlines() if line.startswith("IMPORTED")
    ]
    return ", ".join(imported[0]) if imported and imported[0] else "none"


def line(label: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"{label:<24} wall p50 {statistics.median(walls):6.1f} p95 {percentile(walls, 0.95):6.1f}"
        f" ms  cpu p50 {statistics.median(cpus):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline", type=Path, default=None, help="another commit's checkout")
    parser.add_argument("--this", type=Path, default=None, help="the measured code's checkout")
    parser.add_argument("--baseline-data-dir", type=Path, default=None)
    args = parser.parse_args()
    this = _env(args.this.resolve() if args.this is not None else None)
    variants = {"": this}
    if args.baseline is not None:
        variants = {"baseline ": _env(args.baseline.resolve()), "this ": this}
    data_dirs = {name: args.data_dir for name in variants}
    if args.baseline_data_dir is not None:
        data_dirs["baseline "] = args.baseline_data_dir
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, command in COMMANDS.items():
        argvs = {
            name: [str(LISTARCHIVE), "--data-dir", str(data_dirs[name]), *command]
            for name in variants
        }
        for name, env in variants.items():
            timed(argvs[name], env)  # warm the page cache and the bytecode
        walls: dict[str, list[float]] = {name: [] for name in variants}
        cpus: dict[str, list[float]] = {name: [] for name in variants}
        bare_walls: list[float] = []
        bare_cpus: list[float] = []
        for _ in range(args.runs):
            for name, env in variants.items():
                wall, cpu = timed(argvs[name], env)
                walls[name].append(wall)
                cpus[name].append(cpu)
            wall, cpu = timed([sys.executable, "-c", "pass"], _env())
            bare_walls.append(wall)
            bare_cpus.append(cpu)
        for name, env in variants.items():
            heavy = heavy_imported(argvs[name][1:], env)
            print(
                f"{line(name + label, walls[name], cpus[name])}  ({args.runs} runs)  "
                f"heavy modules imported: {heavy}"
            )
        print(f"{line('  python -c pass', bare_walls, bare_cpus)}  (the floor, same loop)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
