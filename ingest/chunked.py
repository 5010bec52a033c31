"""One large volume parsed by every worker process: the sync process reads and cuts the
volume (the same stream and cut as `ingest.worker.parse_volume`), sends pieces of
`CHUNK_MESSAGES` messages / `CHUNK_BYTES` raw bytes through a bounded window (at most
`2 x workers` pieces in flight) to the pool, and stores the parsed pieces in archive order
through the volume's writer (`Store.volume_writer`, one transaction).

Each raw message crosses the pipe once (sync process -> worker); what comes back is the
stored row (raw bytes compressed in the worker) or the quarantine record.  Byte-identical
copies are counted as `repeats` as `parse_volume` counts them: within a piece by the worker,
across pieces by the sync process (digests of messages already parsed); a copy whose first
is still in flight is parsed again and stored as a duplicate, so totals do not depend on
timing (`repeats + duplicates` and `count + repeats` are the same either way).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.mboxstream import CHUNK, ChunkSource, split_stream, volume_text
from ingest.sources.base import Download
from ingest.worker import Batch, Limits, Rejected, build_item
from store.records import MESSAGE_COLUMNS, Quarantined, StoredItem

if TYPE_CHECKING:
    from store.store import Store as StoreType

logger = logging.getLogger(__name__)

CHUNK_MESSAGES = 200
CHUNK_BYTES = 4 * 1024 * 1024
"""A piece sent to a worker is full at this many messages or raw bytes."""
SPLIT_BYTES = 8 * 1024 * 1024
"""Volume files at least this large are split across the workers (smaller ones are parsed
whole by one worker, several volumes at a time)."""

_DATE_SOURCE = MESSAGE_COLUMNS.index("date_source")

Entry = tuple[int, str, bytes, bytes]
"""(position, From_ line, raw message, its sha256 digest) as sent to a worker."""


@dataclass(frozen=True, slots=True)
class ParsedChunk:
    batch: Batch
    failures: int = 0
    repeats: int = 0
    learned: tuple[bytes, ...] = ()
    """Digests of the messages parsed whose date did not come from the From_ line: their
    byte-identical copies are repeats (see `ingest.worker.parse_volume`)."""


@dataclass(slots=True)
class SplitResult:
    count: int = 0
    """Messages parsed or quarantined (not counting `repeats`)."""
    repeats: int = 0
    failures: int = 0
    text_bytes: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    removed: int = 0


def parse_chunk(name: str, entries: list[Entry], limits: Limits) -> ParsedChunk:
    """Parse one piece of a volume (runs in a worker process; pure)."""
    done: set[bytes] = set()
    items: list[StoredItem] = []
    bad: list[Quarantined] = []
    size = failures = repeats = 0
    for position, unixfrom, raw, digest in entries:
        if digest in done:
            repeats += 1
            continue
        try:
            item = build_item(
                raw, unixfrom, name, position, limits.max_mime_depth, limits.max_deep_parts
            )
        except Rejected as exc:
            failures += exc.failure
            bad.append(Quarantined(name, position, exc.reason, raw))
            continue
        if item.row[_DATE_SOURCE] != "unixfrom":
            done.add(digest)
        items.append(item)
        size += len(raw)
    return ParsedChunk(Batch(items, bad, size), failures, repeats, tuple(done))


def range_chunks(path: Path, start: int = 0, end: int | None = None) -> ChunkSource:
    """The bytes of `path` from `start` up to `end` (None: its end), in CHUNK pieces."""

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            handle.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                piece = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not piece:
                    return
                if left is not None:
                    left -= len(piece)
                yield piece

    return chunks


Store = Callable[[list[StoredItem], list[Quarantined]], tuple[int, int, int, int]]
"""Stores one batch: returns (new, duplicates, quarantined, removed)."""


def parse_split(
    executor: Executor,
    workers: int,
    raw: ChunkSource,
    url: str,
    name: str,
    limits: Limits,
    store: Store,
    first_position: int = 0,
) -> SplitResult:
    """Cut the volume `raw` opens into pieces, parse them in `executor`, store them in order
    with `store`.  Raises what the stream raises (`SourceError`: a limit, no archive) and
    `BrokenProcessPool` (a worker died); the caller rolls the volume back then."""
    result = SplitResult()
    seen = [0]

    def text() -> Iterator[bytes]:
        total = 0
        for chunk in volume_text(raw, url, limits.max_volume_bytes)():
            total += len(chunk)
            seen[0] = max(seen[0], total)
            yield chunk

    window: deque[Future[ParsedChunk]] = deque()
    known: set[bytes] = set()
    in_flight = max(2, 2 * workers)

    def collect() -> None:
        parsed = window.popleft().result()
        result.repeats += parsed.repeats
        result.count -= parsed.repeats  # counted when sent, but neither parsed nor quarantined
        result.failures += parsed.failures
        for digest in parsed.learned:
            if len(known) < limits.dedup_digests:
                known.add(digest)
        counts = store(parsed.batch.items, parsed.batch.quarantined)
        result.new += counts[0]
        result.duplicates += counts[1]
        result.quarantined += counts[2]
        result.removed += counts[3]

    def submit(entries: list[Entry]) -> None:
        window.append(executor.submit(parse_chunk, name, entries, limits))
        while window and (len(window) >= in_flight or window[0].done()):
            collect()

    entries: list[Entry] = []
    size = 0
    oversized: list[Quarantined] = []
    pieces = split_stream(text, limits.max_message_bytes, limits.quarantine_keep_bytes)
    for position, piece in enumerate(pieces, start=first_position):
        if piece.truncated:
            oversized.append(limits.oversized(name, position, piece))
            result.count += 1
            continue
        digest = hashlib.sha256(piece.raw).digest()
        if digest in known:
            result.repeats += 1
            continue
        entries.append((position, piece.unixfrom, piece.raw, digest))
        result.count += 1
        size += len(piece.raw)
        if len(entries) >= CHUNK_MESSAGES or size >= CHUNK_BYTES:
            submit(entries)
            entries, size = [], 0
    if entries:
        submit(entries)
    while window:
        collect()
    if oversized:
        counts = store([], oversized)
        result.quarantined += counts[2]
    result.text_bytes = seen[0]
    return result


def splits(download: Download) -> bool:
    """Whether a fetched volume is parsed split across the workers: a large file, or the
    new end of a grown one (`Download.start`)."""
    if not download.path or download.status != "fetched":
        return False
    if download.start:
        return True
    try:
        return os.path.getsize(download.path) >= SPLIT_BYTES
    except OSError:
        return False  # the usual path reports it


def store_split(
    store: StoreType,
    list_id: int,
    executor: Executor,
    workers: int,
    download: Download,
    limits: Limits,
    raw: ChunkSource,
    *,
    release_held: bool = False,
) -> SplitResult:
    """Parse and store one volume split across the workers, in its one transaction (rolled
    back if anything raises); its fetch state gets the message count (after the
    `download.first_position` messages stored before, for a grown file)."""
    assert download.state is not None
    state = download.state
    with store.volume_writer(list_id, state, release_held=release_held) as writer:

        def save(items: list[StoredItem], bad: list[Quarantined]) -> tuple[int, int, int, int]:
            counts = writer.add(items, bad)
            return counts.new, counts.duplicates, counts.quarantined, counts.removed

        result = parse_split(
            executor,
            workers,
            raw,
            download.volume.url,
            download.volume.name,
            limits,
            save,
            download.first_position,
        )
        writer.state = dataclasses.replace(
            state, message_count=download.first_position + result.count + result.repeats
        )
    return result
