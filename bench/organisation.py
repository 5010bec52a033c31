"""What the dashboards' benchmarks build around a synced store (bench/analytics.py for the
twisted lists, bench/scale_build.py for the scale stores): the CLI run as a subprocess, the
posters of a list in a year (a roster), the busiest persons (a meeting's participants) and
the rosters imported; and the nearest-rank percentile their figures use."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

NEVER_POSTED = [f"member{i}@example.org" for i in range(25)]
"""Roster members who never posted (every roster has them)."""


def cli(data_dir: Path, *args: str) -> str:
    command = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def posters(conn: sqlite3.Connection, list_name: str, year: int) -> list[str]:
    """The addresses that posted to `list_name` in `year` (UTC), sorted."""
    start = datetime(year, 1, 1, tzinfo=UTC).timestamp()
    end = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
    return [
        str(row[0])
        for row in conn.execute(
            "SELECT DISTINCT i.value FROM messages m JOIN identities i ON i.id = m.identity "
            "JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list "
            "WHERE l.name = ? AND i.kind = 'address' AND m.date >= ? AND m.date < ? ORDER BY 1",
            (list_name, start, end),
        )
    ]


def busiest(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(key, name) of the 40 persons with the most messages, most first."""
    rows = conn.execute(
        "SELECT p.key, p.name FROM persons p JOIN identities i ON i.person = p.id "
        "JOIN messages m ON m.identity = i.id GROUP BY p.id ORDER BY COUNT(*) DESC LIMIT 40"
    ).fetchall()
    return [(str(key), str(name)) for key, name in rows]


def import_rosters(data_dir: Path, rosters: Iterable[tuple[str, list[str], str]]) -> None:
    """Import each (list, members, as-of day) roster, with `NEVER_POSTED` added."""
    for name, members, as_of in rosters:
        path = data_dir / f"{name}-members.txt"
        path.write_text("\n".join(members + NEVER_POSTED) + "\n")
        cli(data_dir, "rosters", "import", name, str(path), "--as-of", as_of)


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]
