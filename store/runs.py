"""Sync runs as recorded in the store: history per list and the lists that keep failing."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store import locks, tx
from store.redact import redact

logger = logging.getLogger(__name__)


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


def start_run(conn: sqlite3.Connection, list_id: int, owner: str) -> int:
    """Record a run as `running`, with its owner (`host:pid`) so that a run whose process was
    killed can be told from one still going (`abandon_dead`)."""
    with tx.write(conn):
        cursor = conn.execute(
            "INSERT INTO runs (list, started_at, status, summary) VALUES (?, ?, 'running', ?)",
            (list_id, _now(), json.dumps({"owner": owner})),
        )
    return int(cursor.lastrowid or 0)


def finish_run(conn: sqlite3.Connection, run_id: int, status: str, summary: dict[str, Any]) -> None:
    with tx.write(conn):
        conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            (_now(), status, json.dumps(summary), run_id),
        )


def abandon_dead(conn: sqlite3.Connection, list_id: int | None = None) -> int:
    """Mark `abandoned` (with `finished_at` and the reason) the runs still `running` whose
    process is gone: its owner is a process of this host that no longer exists, or, with
    `list_id` (the caller holds that list's sync lock, so nobody else is syncing it), every
    running run of that list.  Returns how many were marked."""
    rows = conn.execute("SELECT id, list, summary FROM runs WHERE status = 'running'").fetchall()
    marked = 0
    for run_id, run_list, text in rows:
        summary = _loads(text)
        owner = str(summary.get("owner", ""))
        if not (run_list == list_id or (owner and not locks.owner_alive(owner))):
            continue
        who = f"the sync process ({owner})" if owner else "the sync process"
        summary["error"] = (
            f"{who} ended without finishing this run (killed or crashed); the volumes it did "
            "not store are synced by the next run"
        )
        with tx.write(conn):
            marked += conn.execute(
                "UPDATE runs SET status = 'abandoned', finished_at = ?, summary = ? "
                "WHERE id = ? AND status = 'running'",
                (_now(), json.dumps(summary), run_id),
            ).rowcount
        logger.warning("run %d: %s", run_id, summary["error"])
    return marked


def _loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
