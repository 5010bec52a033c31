"""`listarchive reparse`: apply the current parser to the raw bytes the store keeps.

Stored messages are read in batches (memory holds a few batches, whatever the store's size),
parsed in the worker pool (`sync.workers`) with every per-message step guarded as in a sync
(`ingest.worker.build_item`), compared with the stored fields, and only the rows that changed
are written (`store.reparse`): their change sequence is bumped (the search index catches up),
their sender re-identified when it changed, and the threads they were in rebuilt.  A key is
never changed: when the new parse would give another key, the old one is kept and reported.
A stored message the current parser fails on is kept as it is, and reported.

Quarantined messages are parsed again too; those that now parse are stored on their list,
at their volume and position (through `Store.save_volume`, so tombstones apply), and leave
the quarantine.  A message quarantined for its size is not retried here (only its first
bytes were kept): a sync reads its volume again once `sync.max_message_bytes` is raised.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from ingest.bodytext import MAX_DEEP_PARTS
from ingest.worker import DEFAULT_LIMITS, Limits, Rejected, build_item, make_executor
from store import reparse as stored
from store.records import StoredItem
from store.store import Store

logger = logging.getLogger(__name__)

BATCH = 500
TOO_LARGE = "larger than sync.max_message_bytes"

Job = tuple[bytes, str, str, int]
"""(raw, unixfrom, origin, position) of one message to parse."""
Outcome = tuple[StoredItem | None, str]


@dataclass(slots=True)
class ReparseReport:
    checked: int = 0
    changed: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    keys_kept: list[dict[str, str]] = field(default_factory=list)
    """Messages whose new parse gives another key: the stored key is kept."""
    identities_changed: int = 0
    threads_rebuilt: int = 0
    now_failing: list[dict[str, str]] = field(default_factory=list)
    """Stored messages the current parser rejects: kept as stored."""
    quarantine_checked: int = 0
    quarantine_stored: int = 0
    quarantine_duplicates: int = 0
    still_failing: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "changed": self.changed,
            "fields": dict(sorted(self.fields.items())),
            "keys_kept": self.keys_kept,
            "identities_changed": self.identities_changed,
            "threads_rebuilt": self.threads_rebuilt,
            "now_failing": self.now_failing,
            "quarantine": {
                "checked": self.quarantine_checked,
                "stored": self.quarantine_stored,
                "duplicates": self.quarantine_duplicates,
                "still_failing": self.still_failing,
            },
            "dry_run": self.dry_run,
        }


def parse_jobs(
    jobs: Sequence[Job], max_mime_depth: int, max_deep_parts: int = MAX_DEEP_PARTS
) -> list[Outcome]:
    """Parse a chunk of messages (runs in a worker process): the item, or the reason."""
    out: list[Outcome] = []
    for raw, unixfrom, origin, position in jobs:
        try:
            item = build_item(raw, unixfrom, origin, position, max_mime_depth, max_deep_parts)
            out.append((item, ""))
        except Rejected as exc:
            out.append((None, exc.reason))
    return out


def _parse_all(executor: Executor, jobs: list[Job], workers: int, limits: Limits) -> list[Outcome]:
    if not jobs:
        return []
    size = max(1, -(-len(jobs) // max(workers, 1)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    futures = [
        executor.submit(parse_jobs, chunk, limits.max_mime_depth, limits.max_deep_parts)
        for chunk in chunks
    ]
    return [outcome for future in futures for outcome in future.result()]


def reparse(
    store: Store,
    list_name: str | None = None,
    *,
    quarantined_only: bool = False,
    workers: int = 2,
    limits: Limits = DEFAULT_LIMITS,
    dry_run: bool = False,
    batch: int = BATCH,
    keep_bodies: bool = True,
) -> ReparseReport:
    """Re-parse the stored messages (of one list) and, with them, the quarantined ones
    (`quarantined_only`: those only); `dry_run` reports without writing.  `keep_bodies`: the
    bodies replaced are kept for the embedded search index until it catches up
    (`store.superseded`); Elasticsearch forgets a document by its id and needs none."""
    list_id = store.get_list(list_name).id if list_name else None
    report = ReparseReport(dry_run=dry_run)
    executor = make_executor(workers)
    try:
        if not quarantined_only:
            _reparse_stored(store, list_id, report, executor, workers, limits, batch, keep_bodies)
        _reparse_quarantined(store, list_id, report, executor, workers, limits, batch)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    logger.info(
        "reparse: %d checked, %d changed; quarantine: %d stored of %d",
        report.checked,
        report.changed,
        report.quarantine_stored,
        report.quarantine_checked,
    )
    return report


def _reparse_stored(
    store: Store,
    list_id: int | None,
    report: ReparseReport,
    executor: Executor,
    workers: int,
    limits: Limits,
    batch: int,
    keep_bodies: bool = True,
) -> None:
    threads: set[str] = set()
    unthreaded: list[int] = []
    for rows in stored.stored_batches(store.conn, list_id, batch):
        jobs = [(r.raw, r.unixfrom, "", 0) for r in rows]
        changes = []
        for row, (item, reason) in zip(
            rows, _parse_all(executor, jobs, workers, limits), strict=True
        ):
            report.checked += 1
            if item is None:
                report.now_failing.append({"key": row.key, "reason": reason})
                continue
            if item.key != row.key:
                report.keys_kept.append({"key": row.key, "new_key": item.key})
            columns = stored.changed_columns(row, item.row)
            if not columns:
                continue
            report.changed += 1
            report.fields.update(columns)
            changes.append(stored.Change(row, item.row, columns))
            if row.thread_id is None:
                unthreaded.append(row.id)
        if report.dry_run or not changes:
            continue
        moved, touched = stored.apply_changes(store, changes, keep_bodies)
        report.identities_changed += moved
        threads |= touched
    if threads and not report.dry_run:
        stored.unthread(store, threads, unthreaded)
        report.threads_rebuilt = len(threads)
    if not report.dry_run:
        store.rethread()  # also names the persons whose messages moved


def _reparse_quarantined(
    store: Store,
    list_id: int | None,
    report: ReparseReport,
    executor: Executor,
    workers: int,
    limits: Limits,
    batch: int,
) -> None:
    for rows in stored.quarantined_batches(store.conn, list_id, batch):
        retry = [r for r in rows if TOO_LARGE not in r.reason]
        report.quarantine_checked += len(rows)
        report.still_failing += len(rows) - len(retry)
        jobs = [(r.raw, "", r.origin, r.position) for r in retry]
        outcomes = _parse_all(executor, jobs, workers, limits)
        by_volume: dict[tuple[int, str], list[tuple[int, StoredItem]]] = {}
        for row, (item, _reason) in zip(retry, outcomes, strict=True):
            if item is None:
                report.still_failing += 1
                continue
            by_volume.setdefault((row.list_id, row.origin), []).append((row.id, item))
        for (list_of, origin), found in by_volume.items():
            if report.dry_run:
                report.quarantine_stored += len(found)
                continue
            state = stored.volume_state(store, list_of, origin)
            counts = store.save_volume(list_of, state, [item for _, item in found])
            report.quarantine_stored += counts.new
            report.quarantine_duplicates += len(found) - counts.new
            stored.forget_quarantined(store, [qid for qid, _ in found])
    if report.quarantine_stored and not report.dry_run:
        store.rethread()
