"""Sync runs as recorded in the store: history per list and the lists that keep failing.

The readers (`recent_runs`, `count_runs`, `get_run`, `report`) serve `listarchive runs` and the
secretariat's `/runs` pages alike, so both show the same data; stored URLs are redacted."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store import locks, tx
from store.redact import redact
from store.visibility import EVERYTHING, Visibility

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


STATUSES = ("running", "ok", "partial", "interrupted", "error", "failed", "abandoned")
"""Every status a run may have (docs/cli.md, `runs`)."""

_RUN = "SELECT r.id, l.name, r.started_at, r.finished_at, r.status, r.summary FROM runs r "


def _where(
    viewer: Visibility, list_name: str | None, status: str | None
) -> tuple[str, list[object]]:
    conditions, params = [viewer.lists("l")], list[object]()
    if list_name:
        conditions.append("l.name = ?")
        params.append(list_name)
    if status:
        conditions.append("r.status = ?")
        params.append(status)
    return "WHERE " + " AND ".join(conditions), params


def _record(row: Sequence[Any]) -> RunRecord:
    # a URL's credentials (a list added before they were refused) are never shown
    summary = _loads(redact(row[5] or "{}"))
    return RunRecord(row[0], row[1], row[2], row[3], row[4], summary)


def recent_runs(
    conn: sqlite3.Connection,
    list_name: str | None = None,
    limit: int = 20,
    *,
    status: str | None = None,
    offset: int = 0,
    viewer: Visibility = EVERYTHING,
) -> list[RunRecord]:
    """Runs newest first: of one list or all (those `viewer` may see), of one status or all."""
    where, params = _where(viewer, list_name, status)
    rows = conn.execute(
        f"{_RUN}JOIN lists l ON l.id = r.list {where} ORDER BY r.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [_record(r) for r in rows]


def count_runs(
    conn: sqlite3.Connection,
    list_name: str | None = None,
    *,
    status: str | None = None,
    viewer: Visibility = EVERYTHING,
) -> int:
    where, params = _where(viewer, list_name, status)
    row = conn.execute(f"SELECT count(*) FROM runs r JOIN lists l ON l.id = r.list {where}", params)
    return int(row.fetchone()[0])


def get_run(
    conn: sqlite3.Connection, run_id: int, viewer: Visibility = EVERYTHING
) -> RunRecord | None:
    row = conn.execute(
        f"{_RUN}JOIN lists l ON l.id = r.list WHERE r.id = ? AND {viewer.lists('l')}", (run_id,)
    ).fetchone()
    return _record(row) if row else None


def list_names(conn: sqlite3.Connection, viewer: Visibility = EVERYTHING) -> list[str]:
    """The names of the lists `viewer` may see, by name."""
    query = f"SELECT name FROM lists l WHERE {viewer.lists('l')} ORDER BY name"
    return [str(r[0]) for r in conn.execute(query)]


def report(
    conn: sqlite3.Connection,
    list_name: str | None = None,
    limit: int = 20,
    *,
    status: str | None = None,
    offset: int = 0,
    viewer: Visibility = EVERYTHING,
) -> dict[str, Any]:
    """`{"runs": [...], "lists": [...]}`: the runs (newest first) and the health of the list
    (or of every list): what `listarchive runs --json` prints and `/runs.json` carries."""
    records = recent_runs(conn, list_name, limit, status=status, offset=offset, viewer=viewer)
    names = [list_name] if list_name else list_names(conn, viewer)
    return {
        "runs": [r.as_dict() for r in records],
        "lists": [list_health(conn, name).as_dict() for name in names],
    }


@dataclass(frozen=True, slots=True)
class ListHealth:
    list_name: str
    consecutive_failures: int
    """Finished runs in a row, newest first, that were not clean."""
    last_error: str
    last_success: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "last_success": self.last_success,
        }


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
            f"{who} ended without finishing this run (killed, crashed, or the disk was full); "
            "the volumes it did not store are synced by the next run"
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
