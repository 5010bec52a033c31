"""The sync pipeline: download volumes in order, parse them in worker processes, store each
volume in one transaction, then thread.

Downloads run one at a time in the calling thread (polite to archive servers, and no threads
exist when worker processes fork); parsing of several volumes overlaps with them.  Volumes are
stored in archive order, so a re-run or a resumed run produces exactly the same store.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import multiprocessing
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

from ingest.errors import ParseError, SourceError
from ingest.incremental import volumes_to_check
from ingest.parse import parse_message
from ingest.sources.base import Download, Source, Volume, split_text_volume
from store.records import Quarantined, StoredItem, VolumeState
from store.store import Store, utcnow_iso

logger = logging.getLogger(__name__)

PARSE_WINDOW = 6


@dataclass(slots=True)
class VolumeFailure:
    volume: str
    error: str


@dataclass(slots=True)
class RunSummary:
    list_name: str
    volumes_fetched: int = 0
    volumes_unchanged: int = 0
    volumes_failed: int = 0
    new_messages: int = 0
    duplicates: int = 0
    quarantined: int = 0
    requests: int = 0
    failures: list[VolumeFailure] = field(default_factory=list)
    error: str = ""
    """A run-level failure (the source itself unreachable)."""
    interrupted: bool = False
    """Stopped early on request; the volumes not reached are synced next time."""
    skipped: str = ""
    """Why the list was not synced at all (another process holds its lock)."""
    full: bool = True
    """Every volume was checked (False: only new, failed and the two newest)."""
    warnings: list[str] = field(default_factory=list)
    """Noted about the source, not failures: index links on another origin, not fetched."""

    @property
    def clean(self) -> bool:
        return not self.error and not self.failures

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["clean"] = self.clean
        return data


@dataclass(frozen=True, slots=True)
class ParsedVolume:
    items: list[StoredItem]
    quarantined: list[Quarantined]
    error: str = ""


def parse_volume(kind: str, volume: Volume, data: bytes) -> ParsedVolume:
    """Split and parse one downloaded volume (runs in a worker process).

    Every source kind delivers mbox-format volumes (pipermail text, mbox files, HyperKitty's
    mbox export), so one splitter serves them all; `kind` is kept for sources that will not."""
    items: list[StoredItem] = []
    bad: list[Quarantined] = []
    try:
        raws = list(split_text_volume(volume, data))
    except SourceError as exc:
        return ParsedVolume([], [], error=exc.reason)
    # Archives repeat messages byte for byte (twisted-python has whole months archived twice,
    # with From_ lines that differ): parse each distinct message once; the copies share one
    # row, which pickle also sends back to the parent only once.  The From_ line only matters
    # when the parser fell back to it for the date, so such messages are not shared.
    done: dict[bytes, StoredItem] = {}
    for raw in raws:
        same = done.get(raw.raw)
        if same is not None:
            items.append(dataclasses.replace(same, origin=raw.origin, position=raw.position))
            continue
        try:
            message = parse_message(raw.raw, raw.unixfrom)
        except ParseError as exc:
            bad.append(Quarantined(raw.origin, raw.position, str(exc), raw.raw))
            continue
        except Exception as exc:  # a parser bug must not abort the run: quarantine it
            reason = f"parser failure: {type(exc).__name__}: {exc}"
            bad.append(Quarantined(raw.origin, raw.position, reason, raw.raw))
            continue
        item = StoredItem.build(message, raw.raw, raw.origin, raw.position)
        if message.date_source != "unixfrom":
            done[raw.raw] = item
        items.append(item)
    return ParsedVolume(items, bad)


class _InlineExecutor(Executor):
    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - parse_volume catches its own errors
            future.set_exception(exc)
        return future


def make_executor(workers: int) -> Executor:
    if workers <= 1:
        return _InlineExecutor()
    methods = multiprocessing.get_all_start_methods()
    # fork is cheapest, but only safe while this process has one thread (the CLI); under the
    # scheduler, jobs run in threads, so workers come from a fork server instead
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_die_with_parent
    )


def _die_with_parent() -> None:
    """In a parser worker: ask Linux to end this process when the sync process dies, even by
    SIGKILL (otherwise orphaned workers wait on their task queue forever).  Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # no prctl: workers end with their queue as before
        return


_PR_SET_PDEATHSIG = 1


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
) -> RunSummary:
    """Fetch, parse, store and thread one list; never raises for a bad volume or message.

    When `stop` is set (SIGTERM in the scheduler) no further volume is downloaded; the volumes
    already downloaded are finished and stored, and the run is recorded as interrupted.
    `full=False` (scheduled runs) checks only new, failed and the two newest volumes."""
    info = store.get_list(list_name)
    summary = RunSummary(list_name)
    run_id = _start_run(store, info.id)
    logger.info("sync %s: start (%s source)", list_name, source.kind)
    states = store.volume_states(info.id)
    try:
        recent = getattr(source, "recent_volumes", None)
        if not full and recent is not None:
            volumes = recent(states)  # the source knows its recent periods without an index
        else:
            volumes = volumes_to_check(source.volumes(), states, full)
    except SourceError as exc:
        summary.error = str(exc)
        logger.error("sync %s: source unavailable: %s", list_name, exc)
        _finish_run(store, run_id, summary)
        return summary
    summary.full = full
    summary.warnings = list(getattr(source, "warnings", []))
    if on_volumes is not None:
        on_volumes(len(volumes))
    pending: deque[tuple[Download, Future[ParsedVolume] | None]] = deque()
    executor = make_executor(workers)
    try:
        for volume in volumes:
            if stop is not None and stop.is_set():
                summary.interrupted = True
                logger.warning("sync %s: stop requested, finishing the current volumes", list_name)
                break
            previous = states.get(volume.name)
            download = source.download(volume, previous)
            summary.requests += download.requests
            if download.status == "unchanged" and download.state not in (None, previous):
                # same bytes from a new URL (a re-pointed list) or with new validators:
                # remember them, so the next run makes a conditional request there
                assert download.state is not None
                store.record_volume(info.id, download.state)
            job = None
            if download.status == "fetched":
                job = executor.submit(parse_volume, source.kind, volume, download.data)
            pending.append((download, job))
            while pending and (len(pending) > PARSE_WINDOW or _ready(pending[0])):
                _finish_volume(store, info.id, *pending.popleft(), summary, progress)
        while pending:
            _finish_volume(store, info.id, *pending.popleft(), summary, progress)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    store.rethread()
    store.mark_synced(info.id)
    _finish_run(store, run_id, summary)
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


def _ready(entry: tuple[Download, Future[ParsedVolume] | None]) -> bool:
    return entry[1] is None or entry[1].done()


def _finish_volume(
    store: Store,
    list_id: int,
    download: Download,
    job: Future[ParsedVolume] | None,
    summary: RunSummary,
    progress: ProgressCallback | None,
) -> None:
    name = download.volume.name
    if download.status == "unchanged":
        summary.volumes_unchanged += 1
        status = "unchanged"
    elif download.status == "failed" or job is None:
        _fail(store, list_id, download, download.error or "download failed", summary)
        status = "failed"
    else:
        parsed = job.result()
        if parsed.error:
            _fail(store, list_id, download, parsed.error, summary)
            status = "failed"
        else:
            assert download.state is not None
            state = dataclasses.replace(
                download.state, message_count=len(parsed.items) + len(parsed.quarantined)
            )
            counts = store.save_volume(list_id, state, parsed.items, parsed.quarantined)
            summary.volumes_fetched += 1
            summary.new_messages += counts.new
            summary.duplicates += counts.duplicates
            summary.quarantined += counts.quarantined
            status = "fetched"
            logger.debug("%s: %d new, %d duplicates", name, counts.new, counts.duplicates)
    if progress is not None:
        progress(name, status)


def _fail(store: Store, list_id: int, download: Download, error: str, summary: RunSummary) -> None:
    summary.volumes_failed += 1
    summary.failures.append(VolumeFailure(download.volume.name, error))
    logger.warning("volume %s failed: %s", download.volume.name, error)
    store.record_volume(
        list_id,
        VolumeState(
            name=download.volume.name,
            url=download.volume.url,
            fetched_at=utcnow_iso(),
            status="failed",
            error=error,
        ),
    )


def _start_run(store: Store, list_id: int) -> int:
    with store.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO runs (list, started_at, status) VALUES (?, ?, 'running')",
            (list_id, utcnow_iso()),
        )
    return int(cursor.lastrowid or 0)


def _finish_run(store: Store, run_id: int, summary: RunSummary) -> None:
    if summary.interrupted:
        status = "interrupted"
    else:
        status = "ok" if summary.clean else ("error" if summary.error else "partial")
    with store.transaction() as conn:
        conn.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            (utcnow_iso(), status, json.dumps(summary.as_dict()), run_id),
        )
