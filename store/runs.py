"""Sync runs as recorded in the store: history per list and the lists that keep failing."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from store.redact import redact


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    list_name: str
    started_at: str
    finished_at: str | None
    status: str
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "list": self.list_name,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            **{k: v for k, v in self.summary.items() if k != "list_name"},
        }


def recent_runs(
    conn: sqlite3.Connection, list_name: str | None = None, limit: int = 20
) -> list[RunRecord]:
    where, params = ("WHERE l.name = ?", (list_name, limit)) if list_name else ("", (limit,))
    rows = conn.execute(
        "SELECT r.id, l.name, r.started_at, r.finished_at, r.status, r.summary FROM runs r "
        f"JOIN lists l ON l.id = r.list {where} ORDER BY r.id DESC LIMIT ?",
        params,
    ).fetchall()
    # a URL's credentials (a list added before they were refused) are never shown
    return [RunRecord(r[0], r[1], r[2], r[3], r[4], json.loads(redact(r[5] or "{}"))) for r in rows]


@dataclass(frozen=True, slots=True)
class ListHealth:
    list_name: str
    consecutive_failures: int
    """Finished runs in a row, newest first, that were not clean."""
    last_error: str
    last_success: str | None


def list_health(conn: sqlite3.Connection, list_name: str) -> ListHealth:
    failures = 0
    last_error = ""
    last_success: str | None = None
    for run in recent_runs(conn, list_name, limit=200):
        if run.status == "running":
            continue
        if run.status == "ok":
            last_success = run.finished_at
            break
        failures += 1
        if not last_error:
            errors = [run.summary.get("error", "")] + [
                f"{f['volume']}: {f['error']}" for f in run.summary.get("failures", [])
            ]
            last_error = next((e for e in errors if e), run.status)
    return ListHealth(list_name, failures, last_error, last_success)


def last_full_check(conn: sqlite3.Connection, list_name: str) -> str | None:
    """When the last run that checked every volume of the list finished (ok or partial)."""
    for run in recent_runs(conn, list_name, limit=500):
        if run.status in ("ok", "partial") and run.summary.get("full", True):
            return run.finished_at
    return None
