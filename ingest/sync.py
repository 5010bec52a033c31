"""The sync pipeline: download volumes in order, parse them in worker processes, store each
volume in one transaction, then thread.

Downloads run one at a time in the calling thread (polite to archive servers, and no threads
exist when worker processes fork); parsing of several volumes overlaps with them.  Volumes are
stored in archive order, so a re-run or a resumed run produces exactly the same store.

Memory is bounded by a batch, not a volume: a download is spooled to a private temporary file
(`ingest.spool`), the worker reads it from there and writes its parsed messages in batches
to another spool file, and each batch is stored in turn inside the volume's one transaction
(`Store.volume_writer`).  Both files are deleted once the volume is stored or failed (by a
parser worker when there is a pool: `ingest.sync_store.SpoolDeleter`).  A
volume that failed to parse (a limit, no archive) keeps its validators and the limits in force
(`Limits.in_force`): while it is unchanged it is reported failed again ("unchanged since it
failed: ...") without being parsed again, until one of those limits is raised or the run is
asked to (`retry_failed`, `sync --retry-failed`): then it is fetched and parsed again.

Threading and the search index's catch-up do not wait for the last volume: every
`TAIL_EVERY` new messages, while later volumes are still being parsed, the store is threaded
and the caller's `catch_up` runs (the CLI catches the index up), so that this work overlaps
with the workers' parsing instead of running alone after it.  Threading does not depend on
how its work is cut (`store.threading.rethread`) and the index catches up by change sequence,
so the store and the index end the same as with all of it done at the end.

What a run writes to the store (each volume's transaction, a failed volume's record, the
run's end) is in `ingest.sync_store`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ingest import chunked
from ingest.errors import SourceError
from ingest.incremental import volumes_to_check
from ingest.run_summary import RunSummary, VolumeFailure
from ingest.sources.base import Source
from ingest.spool import Spool
from ingest.sync_store import (
    Job,
    SpoolDeleter,
    VolumeStoring,
    discard_job,
    finish_run,
    worker_death,
)
from ingest.volume_plan import deadline_line, expect_volumes, previous_state
from ingest.worker import (
    DEFAULT_LIMITS,
    QUARANTINING_LIMITS,
    Limits,
    ParsedVolume,
    make_executor,
    parse_volume,
)
from store import locks, quarantine, runs, tx
from store.store import Store, StoreFullError

logger = logging.getLogger(__name__)

PARSE_WINDOW = 6
"""Volumes downloaded ahead of the one being stored (`sync.parse_window`)."""
TAIL_EVERY = 3000
"""New messages stored between two rounds of threading and `catch_up` during a run."""

__all__ = [
    "Limits",
    "ParsedVolume",
    "RunSummary",
    "VolumeFailure",
    "make_executor",
    "parse_volume",
    "sync_list",
]


ProgressCallback = Callable[[str, str], None]


def sync_list(
    store: Store,
    list_name: str,
    source: Source,
    *,
    workers: int = 2,
    progress: ProgressCallback | None = None,
    on_volumes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    full: bool = True,
    limits: Limits = DEFAULT_LIMITS,
    deadline: float | None = None,
    spool_root: Path | None = None,
    parse_window: int = PARSE_WINDOW,
    retry_failed: bool = False,
    catch_up: Callable[[], None] | None = None,
    tail_every: int = TAIL_EVERY,
) -> RunSummary:
    """Fetch, parse, store and thread one list; never raises for a bad volume or message.

    When `stop` is set (SIGTERM in the scheduler) no further volume is downloaded; the volumes
    already downloaded are finished and stored, and the run is recorded as interrupted.
    `full=False` (scheduled runs) checks only new, failed and the two newest volumes.
    `limits` bound each volume and message (`sync.max_*`); after `deadline` seconds
    (`sync.run_deadline`) no new volume is started and the rest is left for the next run.
    Parsed batches are spooled under `spool_root` (default: the system temporary directory).
    At most `parse_window` downloaded volumes wait for their turn to be stored.  A volume
    that failed under lower limits than `limits`, or any failed one with `retry_failed`, is
    fetched and parsed again (not reported "unchanged since it failed").
    Every `tail_every` new messages (0: never), while volumes are still in flight, the
    store is threaded and `catch_up` is called (e.g. the search index's catch-up): the work
    that would otherwise wait for the last volume overlaps with parsing (module doc).

    The run always ends with a recorded status: an unexpected error fails the run
    (`failed`, with the reason) and is not raised, except a full disk (`StoreFullError`,
    raised after the run is recorded as failed if that can still be written).  Runs of this
    list left `running` by a process that died are marked `abandoned` first (the caller holds
    the list's sync lock)."""
    info = store.get_list(list_name)
    summary = RunSummary(list_name)
    runs.abandon_dead(store.conn, info.id)
    run_id = runs.start_run(store.conn, info.id, locks.default_owner())
    logger.info("sync %s: start (%s source)", list_name, source.kind)
    try:
        run = _Run(store, info.id, source, summary, workers, limits, Spool(spool_root))
        run.parse_window, run.retry_failed = parse_window, retry_failed
        run.catch_up, run.tail_every = catch_up, tail_every
        run.sync(progress, on_volumes, stop, full, deadline)
    except StoreFullError as exc:
        summary.error = f"{exc}: free space and run sync again"
        logger.error("sync %s: %s", list_name, summary.error)
        finish_run(store, run_id, summary, "failed", quiet=True)
        raise
    except Exception as exc:
        if tx.is_full(exc):
            full_error = StoreFullError(store.path)
            summary.error = f"{full_error}: free space and run sync again"
            finish_run(store, run_id, summary, "failed", quiet=True)
            raise full_error from exc
        logger.exception("sync %s: failed", list_name)
        summary.error = f"sync failed: {type(exc).__name__}: {exc}"
        finish_run(store, run_id, summary, "failed", quiet=True)
        return summary
    finish_run(store, run_id, summary)
    logger.info(
        "sync %s: done: %d fetched, %d unchanged, %d failed volumes; %d new, %d duplicates, "
        "%d quarantined",
        list_name,
        summary.volumes_fetched,
        summary.volumes_unchanged,
        summary.volumes_failed,
        summary.new_messages,
        summary.duplicates,
        summary.quarantined,
    )
    return summary


class _Run(VolumeStoring):
    """One list's volumes through download, parse (in worker processes) and store."""

    def __init__(
        self,
        store: Store,
        list_id: int,
        source: Source,
        summary: RunSummary,
        workers: int,
        limits: Limits,
        spool: Spool,
    ) -> None:
        self.spool = spool
        self.store = store
        self.list_id = list_id
        self.source = source
        self.summary = summary
        self.workers = workers
        self.limits = limits
        self.executor = make_executor(workers)
        self.deleter = SpoolDeleter()
        self.parse_window = PARSE_WINDOW
        self.retry_failed = False
        self.catch_up: Callable[[], None] | None = None
        self.tail_every = TAIL_EVERY
        self.tailed = 0
        """New messages of the run when the store was last threaded (`_tail`)."""
        self.index_failures = 0
        self.index_warning = 0
        """Mid-run index catch-ups that raised, and where their line is in `summary.warnings`."""
        self.releasing: set[str] = set()
        """Volumes read whole again because a limit that quarantined some of their messages
        was raised since (`store.quarantine.held`): those rows go when the volume is stored."""

    def sync(
        self,
        progress: ProgressCallback | None,
        on_volumes: Callable[[int], None] | None,
        stop: threading.Event | None,
        full: bool,
        deadline: float | None,
    ) -> None:
        store, summary, source = self.store, self.summary, self.source
        started = time.monotonic()
        states = store.volume_states(self.list_id)
        held = quarantine.held(store.conn, self.list_id)
        raised = {
            origin
            for origin, recorded in held.items()
            if any(self.limits.raised_since(r, QUARANTINING_LIMITS) for r in recorded)
        }
        remember = getattr(source, "remember", None)
        if remember is not None:
            remember(states)  # what earlier runs learned of the source (pipermail: .txt twins)
        try:
            recent = getattr(source, "recent_volumes", None)
            if not full and recent is not None:
                # the source knows its recent periods without an index
                volumes = recent(states, also=raised)
            else:
                discovered = source.volumes()
                volumes = volumes_to_check(discovered, states, full, also=raised)
                expect_volumes(source, summary, discovered, states)
        except SourceError as exc:
            summary.error = str(exc)
            logger.error("sync %s: source unavailable: %s", summary.list_name, exc)
            self.executor.shutdown(wait=True)
            return
        summary.full = full
        summary.warnings = list(getattr(source, "warnings", [])) + summary.warnings
        if on_volumes is not None:
            on_volumes(len(volumes))
        pending: deque[Job] = deque()
        downloaded = 0
        try:
            for index, volume in enumerate(volumes):
                if stop is not None and stop.is_set():
                    summary.interrupted = True
                    logger.warning(
                        "sync %s: stop requested, finishing the current volumes", summary.list_name
                    )
                    break
                if deadline is not None and downloaded and time.monotonic() - started > deadline:
                    summary.deadline = deadline_line(deadline, len(volumes) - index)
                    logger.warning("sync %s: %s", summary.list_name, summary.deadline)
                    break
                previous = previous_state(
                    states.get(volume.name),
                    self.limits,
                    held=volume.name in raised,
                    retry_failed=self.retry_failed,
                    releasing=self.releasing,
                )
                download = source.download(volume, previous)
                summary.requests += download.requests
                if download.status == "unchanged" and download.state not in (None, previous):
                    # same bytes from a new URL (a re-pointed list) or with new validators:
                    # remember them, so the next run makes a conditional request there
                    assert download.state is not None
                    store.record_volume(self.list_id, download.state)
                job = Job(download, None)
                if download.status != "unchanged":
                    downloaded += 1
                if chunked.splits(download):
                    job.split = True  # parsed by every worker when its turn comes (`_store`)
                elif download.status == "fetched":
                    job.out = str(self.spool.new_file(".parsed"))
                    job.future = self._submit(job)
                pending.append(job)
                while pending and (len(pending) > self.parse_window or _ready(pending[0])):
                    self._finish(pending, progress)
            while pending:
                self._finish(pending, progress)
        finally:
            # all stored (`pending` empty): the workers finish the spool deletions queued
            self.executor.shutdown(wait=True, cancel_futures=bool(pending))
            self.deleter.settle()
            for job in pending:  # not stored (an error is on its way up)
                discard_job(job)
            self.spool.close()
        if summary.parser_failures:
            summary.needs_attention = True
            summary.warnings.append(
                f"{summary.parser_failures} messages quarantined by a parser failure "
                "(`listarchive quarantine` shows why; `listarchive reparse --quarantined` "
                "retries them with a fixed parser)"
            )
        store.rethread()
        store.mark_synced(self.list_id)

    def _submit(self, job: Job) -> Future[ParsedVolume]:
        download = job.download
        return self.executor.submit(
            parse_volume,
            self.source.kind,
            download.volume,
            download.data,
            self.limits,
            download.path,
            job.out,
        )

    def _finish(self, pending: deque[Job], progress: ProgressCallback | None) -> None:
        job = pending[0]
        if job.future is not None:
            try:
                job.future.result()
            except BrokenProcessPool:
                self._recover(pending)
        pending.popleft()
        try:
            status = self._store(job)
        finally:
            self.deleter.discard(self.executor, job)
        if progress is not None:
            progress(job.download.volume.name, status)
        if pending and self.tail_every > 0:
            self._tail()

    def _tail(self) -> None:
        """Thread the store and call `catch_up` once `tail_every` new messages were stored
        since the last time: called while volumes are in flight, it keeps the sync process
        busy while the workers parse them (the last round runs after the last volume)."""
        if self.summary.new_messages - self.tailed < self.tail_every:
            return
        self.tailed = self.summary.new_messages
        self.store.rethread()
        if self.catch_up is not None:
            try:
                self.catch_up()
            except Exception as exc:  # the index is derived from the store: the sync goes on
                self._index_failed(exc)

    def _index_failed(self, exc: Exception) -> None:
        """A mid-run index catch-up raised: logged with its traceback and counted in one line
        of the run's warnings; the catch-up after the sync tries again."""
        logger.exception("sync %s: search index catch-up failed", self.summary.list_name)
        self.index_failures += 1
        warnings = self.summary.warnings
        if self.index_failures > 1:
            warnings.pop(self.index_warning)
        self.index_warning = len(warnings)
        warnings.append(
            f"search index catch-up failed {self.index_failures} time(s) during the sync "
            f"(tried again after it): {type(exc).__name__}: {exc}"
        )

    def _recover(self, pending: deque[Job]) -> None:
        """A parser worker died (killed by the OOM killer, a segfault): the pool is broken and
        every volume in flight in it failed.  Each is parsed again, alone, in a new pool; the
        one whose worker dies again is the culprit and fails; the others are stored."""
        dead = [job for job in pending if job.future is not None and _broken(job.future)]
        logger.warning(
            "sync %s: a parser worker died; parsing %d volumes again one at a time",
            self.summary.list_name,
            len(dead),
        )
        self._new_pool()
        for job in dead:
            job.future = self._submit(job)
            try:
                job.future.result()
            except BrokenProcessPool as exc:
                job.failed = f"parser worker died: {worker_death(exc)}"
                job.future = None
                logger.error("volume %s: %s", job.download.volume.name, job.failed)
                self._new_pool()

    def _new_pool(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.deleter.settle()
        self.executor = make_executor(self.workers)


def _ready(job: Job) -> bool:
    return job.future is None or job.future.done()


def _broken(future: Future[ParsedVolume]) -> bool:
    try:
        future.result()
    except BrokenProcessPool:
        return True
    except Exception:  # noqa: BLE001 - only a broken pool matters here
        return False
    return False
