"""What a sync writes to the store (`ingest.sync`): each parsed volume in its one
transaction, a large volume parsed split across the workers (`ingest.chunked`), a failed
volume's record, and the run's end in `store.runs`.

A stored volume's spool files (its download, its parsed batches) are deleted by a parser
worker (`SpoolDeleter`), not by the sync process: on a disk mounted with `discard` (ext4 here)
an unlink waits for the freed blocks' TRIM, 2.5-4.7 ms a file that has been written back,
and the sync process, whose store, threading and index work the workers wait on, spent ~1.8 s
of a twisted-python sync's wall (248 volumes, 496 files) waiting so (issue 14)."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ingest import chunked
from ingest.errors import SourceError
from ingest.run_summary import RunSummary, VolumeFailure
from ingest.sources.base import Download, Source
from ingest.spool import discard, discard_all
from ingest.worker import Limits, ParsedVolume
from store import runs
from store.records import VolumeState
from store.store import Store, utcnow_iso

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Job:
    """One volume of a run on its way: its download and, once submitted, its parse."""

    download: Download
    future: Future[ParsedVolume] | None
    failed: str = ""
    """Why the parse failed outside the parser (its worker died)."""
    out: str = ""
    """The spool file the worker writes the parsed batches to."""
    split: bool = False
    """A large volume, parsed split across the workers (`ingest.chunked`)."""


class VolumeStoring:
    """The store side of one list's run (`ingest.sync._Run`): its volumes, parsed, stored in
    archive order, and the failed ones recorded."""

    store: Store
    list_id: int
    source: Source
    summary: RunSummary
    workers: int
    limits: Limits
    executor: Executor
    releasing: set[str]

    def _new_pool(self) -> None:
        """A new pool of parser workers after one died (`ingest.sync._Run._new_pool`)."""
        raise NotImplementedError

    def _no_message(self, volume: str, size: int) -> None:
        """A volume of bytes (once decompressed: an empty month's gzip is no warning) without
        a message in them (not an archive?): worth a warning."""
        if size:
            self.summary.needs_attention = True
            self.summary.warnings.append(f"volume {volume}: {size} bytes but no message in them")

    def _store(self, job: Job) -> str:
        download, summary = job.download, self.summary
        if download.status == "unchanged":
            if download.state is not None and download.state.status == "failed":
                # the same bytes as when the volume failed: it would fail again
                self._report_failure(download, f"unchanged since it failed: {download.state.error}")
                return "failed"
            summary.volumes_unchanged += 1
            return "unchanged"
        if job.split:
            return self._store_split(job)
        if job.failed or download.status == "failed" or job.future is None:
            self._fail(download, job.failed or download.error or "download failed")
            return "failed"
        parsed = job.future.result()
        if parsed.error:
            # remembered with the volume's validators: not parsed again while unchanged
            self._fail(download, parsed.error, download.state)
            return "failed"
        assert download.state is not None
        release = download.volume.name in self.releasing
        with self.store.volume_writer(self.list_id, download.state, release_held=release) as writer:
            for batch in parsed.read_batches():
                writer.add(batch.items, batch.quarantined)
            writer.state = dataclasses.replace(
                download.state, message_count=parsed.count + parsed.repeats
            )
        counts = writer.counts
        summary.parser_failures += parsed.failures
        if not (parsed.count or parsed.repeats):
            self._no_message(download.volume.name, parsed.text_bytes)
        self._fetched(
            download.volume.name,
            counts.new,
            counts.duplicates,
            parsed.repeats,
            counts.quarantined,
            counts.removed,
        )
        return "fetched"

    def _store_split(self, job: Job) -> str:
        """A large volume, or a grown file's new end, parsed by every worker and stored in
        its one transaction (`ingest.chunked`).  When a worker dies the volume is rolled
        back and parsed once more in a new pool; a second death fails it."""
        download, summary = job.download, self.summary
        reader = getattr(self.source, "reader", None)
        raw = reader(download) if reader else chunked.range_chunks(Path(download.path))
        for attempt in (1, 2):
            try:
                done = chunked.store_split(
                    self.store,
                    self.list_id,
                    self.executor,
                    self.workers,
                    download,
                    self.limits,
                    raw,
                    release_held=download.volume.name in self.releasing,
                )
                break
            except BrokenProcessPool as exc:
                self._new_pool()
                if attempt == 2:
                    self._fail(download, f"parser worker died: {worker_death(exc)}")
                    return "failed"
            except SourceError as exc:
                self._fail(download, exc.reason, download.state)
                return "failed"
            except OSError as exc:
                self._fail(download, f"cannot read {download.path}: {exc.strerror}")
                return "failed"
        summary.parser_failures += done.failures
        if not (done.count or done.repeats or download.start):
            self._no_message(download.volume.name, done.text_bytes)
        self._fetched(
            download.volume.name,
            done.new,
            done.duplicates,
            done.repeats,
            done.quarantined,
            done.removed,
        )
        return "fetched"

    def _fetched(
        self, name: str, new: int, duplicates: int, repeats: int, quarantined: int, removed: int
    ) -> None:
        """A stored volume's counts added to the run summary (both storing paths)."""
        summary = self.summary
        summary.volumes_fetched += 1
        summary.new_messages += new
        summary.duplicates += duplicates + repeats
        summary.quarantined += quarantined
        summary.removed += removed
        logger.debug("%s: %d new, %d duplicates", name, new, duplicates)

    def _fail(self, download: Download, error: str, state: VolumeState | None = None) -> None:
        """Count and record a failed volume; with `state` (its bytes were read), its
        validators and sha256 are kept, so unchanged bytes are not parsed again."""
        self._report_failure(download, error)
        volume = download.volume
        failed = VolumeState(name=volume.name, url=volume.url, fetched_at=utcnow_iso())
        failed = dataclasses.replace(
            state or failed, status="failed", error=error, limits=self.limits.in_force()
        )
        self.store.record_volume(self.list_id, dataclasses.replace(failed, message_count=0))

    def _report_failure(self, download: Download, error: str) -> None:
        summary = self.summary
        summary.volumes_failed += 1
        summary.failures.append(VolumeFailure(download.volume.name, error))
        logger.warning("volume %s failed: %s", download.volume.name, error)


def discard_job(job: Job) -> None:
    """Delete a job's spool files: the download's (if spooled) and the parsed batches."""
    job.download.discard()
    discard(job.out)


class SpoolDeleter:
    """Stored jobs' spool files deleted in the pool's parser workers (module doc); where
    there is no process pool (one worker parses inline), or it is broken, here at once.
    A deletion that did not run (cancelled when the pool shut down, the pool broke) is done
    here by `settle`, which the run calls after every shutdown of its pool."""

    def __init__(self) -> None:
        self.pending: list[tuple[Future[None], Job]] = []

    def discard(self, executor: Executor, job: Job) -> None:
        download = job.download
        paths = [p for p in (download.path if download.temporary else "", job.out) if p]
        if paths and isinstance(executor, ProcessPoolExecutor):
            self._prune()
            try:
                self.pending.append((executor.submit(discard_all, paths), job))
                return
            except (BrokenProcessPool, RuntimeError):  # broken, or shut down: done here
                pass
        discard_job(job)

    def _prune(self) -> None:
        waiting = []
        for future, job in self.pending:
            if not future.done():
                waiting.append((future, job))
            elif future.cancelled() or future.exception() is not None:
                discard_job(job)
        self.pending = waiting

    def settle(self) -> None:
        """After the pool shut down (every future done or cancelled): what did not run."""
        for future, job in self.pending:
            if not future.done() or future.cancelled() or future.exception() is not None:
                discard_job(job)
        self.pending = []


def worker_death(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{text} (killed, out of memory, or crashed)"


def finish_run(
    store: Store, run_id: int, summary: RunSummary, status: str = "", *, quiet: bool = False
) -> None:
    """Record how the run ended.  `quiet`: after a failure, a record that cannot be written
    (the disk is full) is logged, not raised; the next sync marks the run abandoned."""
    if not status:
        if summary.interrupted:
            status = "interrupted"
        else:
            status = "ok" if summary.clean else ("error" if summary.error else "partial")
    try:
        runs.finish_run(store.conn, run_id, status, summary.as_dict())
    except Exception as exc:
        if not quiet:
            raise
        logger.error("run %d could not be recorded as %s: %s", run_id, status, exc)
