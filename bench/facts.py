"""Facts and /stats metrics benchmark (issue 14, task VX): the CPU of `analytics.facts` and of
each metric of the overview, /stats/people and /stats/responses on one loaded frame (the best
of `--rounds`), for the whole archive and a 2010-2012 window; with `--compare`, the previous
per-post Python code too (tests/analytics/legacy), in the same process, and whether every
figure is equal.  CPU seconds: the machine is shared.  The store is opened read-only.

    .venv/bin/python bench/facts.py --data-dir /tmp/scale/1M/data --compare
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import astuple, replace
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from analytics import activity, facts, responses  # noqa: E402
from analytics.frame import Frame, load_frame  # noqa: E402
from analytics.scope import resolve_scope  # noqa: E402


def _rows(found: Any) -> Any:
    return [astuple(r) for r in found] if isinstance(found, list) else astuple(found)


def _steps(a: ModuleType, r: ModuleType, frame: Frame) -> dict[str, Callable[[], Any]]:
    return {
        "thread_counts": lambda: a.thread_counts(frame),  # its dicts compared untimed
        "totals": lambda: _rows(a.totals(frame)),
        "series month": lambda: _rows(a.series(frame, "month")),
        "series quarter": lambda: _rows(a.series(frame, "quarter")),
        "top_posters 20": lambda: _rows(a.top_posters(frame, 20)),
        "top_posters all": lambda: _rows(a.top_posters(frame, None)),
        "top_threads replies": lambda: _rows(a.top_threads(frame, "replies", 20)),
        "top_threads participants": lambda: _rows(a.top_threads(frame, "participants", 20)),
        "weekdays": lambda: _rows(a.weekdays(frame)),
        "hours": lambda: _rows(a.hours(frame)),
        "busiest_days": lambda: _rows(a.busiest_days(frame)),
        "outcomes": lambda: len(r.outcomes(frame)),
        "summary": lambda: _rows(r.summary(frame)),
        "by_period": lambda: _rows(r.by_period(frame, "month")),
        "unanswered 20": lambda: _rows(r.unanswered(frame, 20)),
    }


def _same(step: str, before: Any, now: Any) -> bool:
    if step == "thread_counts":
        names = ("messages", "replies", "participants", "last")
        return all(dict(getattr(before, n)) == dict(getattr(now, n)) for n in names)
    return bool(before == now)


def _best(step: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    best, found = float("inf"), None
    for _ in range(rounds):
        start = time.process_time()
        found = step()
        best = min(best, time.process_time() - start)
    return best, found


def measure(
    f: ModuleType, a: ModuleType, r: ModuleType, frame: Frame, rounds: int
) -> dict[str, Any]:
    """CPU seconds of each step (and its answer) with the modules `f`, `a`, `r`."""

    def cold_facts() -> Any:
        f._CACHE.clear()  # not clear_cache: that thaws the frame for the collector
        return f.facts(frame)

    def index() -> Any:
        f.facts(frame).indexes.clear()
        made = f.post_index(frame)
        return made.by_person, made.by_parent_person, made.by_thread

    found: dict[str, Any] = {}
    for name, step in {"facts": cold_facts, **_steps(a, r, frame), "post_index": index}.items():
        found[name] = _best(step, rounds)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="the previous code too")
    args = parser.parse_args()
    conn = sqlite3.connect(f"file:{args.data_dir / 'store.db'}?mode=ro", uri=True)
    whole = load_frame(conn, resolve_scope(conn))
    gc.freeze()
    window = whole.with_scope(replace(whole.scope, start=date(2010, 1, 1), end=date(2012, 12, 31)))
    kinds: dict[str, tuple[ModuleType, ModuleType, ModuleType]] = {
        "now": (facts, activity, responses)
    }
    if args.compare:
        from tests.analytics.legacy import activity as old_a
        from tests.analytics.legacy import facts as old_f
        from tests.analytics.legacy import responses as old_r

        kinds = {"before": (old_f, old_a, old_r), **kinds}
    print(f"{len(whole.posts):,} posts; load average {os.getloadavg()[0]:.1f}")
    for label, frame in (("whole archive", whole), ("2010-2012", window)):
        found = {kind: measure(*mods, frame, args.rounds) for kind, mods in kinds.items()}
        print(f"\n{label}: CPU ms ({' -> '.join(kinds)}), load {os.getloadavg()[0]:.1f}")
        for step in found["now"]:
            times = " -> ".join(f"{found[kind][step][0] * 1000:.0f}" for kind in kinds)
            same = ""
            if args.compare and step not in ("facts", "post_index", "outcomes"):
                equal = _same(step, found["before"][step][1], found["now"][step][1])
                same = "  equal" if equal else "  DIFFERS"
            print(f"  {step:26} {times}{same}")


if __name__ == "__main__":
    main()
