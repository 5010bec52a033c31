"""The work done in a parser process: read one downloaded volume as a stream, cut it into
messages and parse them, within the limits it is given (pure: no settings, no store).

What a worker holds is bounded whatever the volume: one message (at most
`sync.max_message_bytes`) and one batch of parsed messages (`sync.batch_messages`,
`sync.batch_bytes`).
Each full batch is pickled to the file the sync process named (`ParsedVolume.batches`),
which it then stores batch by batch in the volume's one transaction: nothing big is held
in memory or sent through the pool's pipe.  The pool itself is `ingest.pool`, the check that
SQLite can store a row `ingest.row_check` (both re-exported here)."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ingest.bodytext import MAX_DEEP_PARTS, MAX_DEPTH
from ingest.errors import ParseError, SourceError
from ingest.mboxstream import (
    KEEP,
    ChunkSource,
    Piece,
    bytes_chunks,
    file_chunks,
    split_stream,
    volume_text,
)
from ingest.parse import parse_message
from ingest.pool import make_executor as make_executor
from ingest.row_check import unstorable as unstorable
from ingest.sources import maildir
from ingest.sources.base import Volume
from store import identities
from store.records import MESSAGE_COLUMNS, Quarantined, StoredItem

GIB = 1024**3
MIB = 1024**2


BATCH_MESSAGES = 500
BATCH_BYTES = 32 * MIB
"""A batch is full at this many messages or raw bytes (a bigger message is a batch alone)."""
REMEMBERED = 200_000
"""Digests of distinct messages a worker remembers to count byte-identical copies: past
this, copies are parsed again (and stored as duplicates), so memory stays bounded."""

FAILING_LIMITS = ("max_volume_bytes",)
"""The limits that fail a whole volume (the others quarantine a message): a volume that
failed is parsed again once one of them is raised (`Limits.raised_since`)."""
QUARANTINING_LIMITS = ("max_message_bytes",)
"""The limits that quarantine a message (only its first bytes are kept): recorded with its
quarantine row (`Limits.oversized`), so that a sync after one was raised reads its volume
again (`ingest.sync`)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The `sync.*` settings a worker needs (defaults: the settings' defaults; the app builds
    them from the settings, `listarchive.syncing.worker_limits`)."""

    max_volume_bytes: int = 2 * GIB
    max_message_bytes: int = 64 * MIB
    max_mime_depth: int = MAX_DEPTH
    batch_messages: int = BATCH_MESSAGES
    batch_bytes: int = BATCH_BYTES
    dedup_digests: int = REMEMBERED
    quarantine_keep_bytes: int = KEEP
    max_deep_parts: int = MAX_DEEP_PARTS

    def in_force(self, names: Sequence[str] = FAILING_LIMITS) -> str:
        """The limits `names` (the volume-failing ones: as recorded with a failed volume), as
        JSON."""
        return json.dumps({name: getattr(self, name) for name in names})

    def raised_since(self, recorded: str, names: Sequence[str] = FAILING_LIMITS) -> bool:
        """Whether a volume that failed under `recorded` (`in_force`) may pass now: one of the
        limits `names` is higher, or what was in force is not known (likewise a message
        quarantined by `QUARANTINING_LIMITS`)."""
        try:
            then = json.loads(recorded) if recorded else None
        except ValueError:
            then = None
        if not isinstance(then, dict):
            return True
        for name in names:
            value = then.get(name)
            if not isinstance(value, int) or getattr(self, name) > value:
                return True
        return False

    def oversized(self, origin: str, position: int, piece: Piece) -> Quarantined:
        """The quarantine row of a message larger than `max_message_bytes` (`piece` holds its
        first bytes), with the limits in force."""
        reason = (
            f"message of {piece.size} bytes is larger than sync.max_message_bytes "
            f"({self.max_message_bytes})"
        )
        limits = self.in_force(QUARANTINING_LIMITS)
        return Quarantined(origin, position, reason, piece.raw, limits=limits)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Batch:
    items: list[StoredItem] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    size: int = 0
    """Raw bytes of its messages."""


@dataclass(frozen=True, slots=True)
class ParsedVolume:
    items: list[StoredItem]
    """Without a batch file only (`parse_volume(out="")`): every parsed message."""
    quarantined: list[Quarantined]
    error: str = ""
    repeats: int = 0
    """Byte-identical copies of a message earlier in the volume: duplicates that would add
    nothing to the store (the message and its membership are already there), so only
    counted: a volume of one message repeated a million times costs no memory."""
    failures: int = 0
    """Messages quarantined because a step raised unexpectedly (`Rejected.failure`)."""
    text_bytes: int = 0
    """Bytes of text the volume holds (decompressed): with no message in them, suspect."""
    batches: str = ""
    """The file the batches were written to (`read_batches`), when one was given."""
    count: int = 0
    """Messages parsed or quarantined (not counting `repeats`)."""

    def read_batches(self) -> Iterator[Batch]:
        """The parsed messages, one batch at a time (from the batch file if there is one)."""
        if not self.batches:
            yield Batch(self.items, self.quarantined)
            return
        with open(self.batches, "rb") as handle:
            while True:
                try:
                    batch = pickle.load(handle)
                except EOFError:
                    return
                assert isinstance(batch, Batch)
                yield batch


class Rejected(Exception):
    """A message that cannot be stored: quarantined with `reason`.  `failure` marks a step that
    raised unexpectedly (a parser bug, not bytes that are no message): the run says so."""

    def __init__(self, reason: str, *, failure: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failure = failure


def build_item(
    raw: bytes,
    unixfrom: str,
    origin: str,
    position: int,
    max_mime_depth: int,
    max_deep_parts: int = MAX_DEEP_PARTS,
) -> StoredItem:
    """Every per-message step of ingestion, each guarded: parse, fingerprint (key and row),
    the sender's identity, and the check that SQLite can store every value.  Raises
    `Rejected` with the reason; never anything else (pure: used by sync and reparse)."""
    try:
        message = parse_message(raw, unixfrom, max_mime_depth, max_deep_parts)
    except ParseError as exc:
        raise Rejected(str(exc), failure=False) from None
    except Exception as exc:  # a parser bug must not abort the run: quarantine it
        raise Rejected(f"parser failure: {_describe(exc)}", failure=True) from None
    try:
        item = StoredItem.build(message, raw, origin, position)
    except UnicodeEncodeError as exc:  # the body, encoded into the row's stored stream
        reason = f"message cannot be stored: column body: {_describe(exc)}"
        raise Rejected(f"parser failure: {reason}", failure=True) from None
    except Exception as exc:
        raise Rejected(f"parser failure: fingerprint: {_describe(exc)}", failure=True) from None
    try:
        ref = identities.identify(message.from_.address, message.from_.name, frozenset())
        ref.value.encode("utf-8")
    except Exception as exc:
        raise Rejected(f"parser failure: sender identity: {_describe(exc)}", failure=True) from None
    problem = unstorable(item.row)
    if problem:
        raise Rejected(f"parser failure: message cannot be stored: {problem}", failure=True)
    return item


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def parse_volume(
    kind: str,
    volume: Volume,
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    path: str = "",
    out: str = "",
) -> ParsedVolume:
    """Split and parse one downloaded volume (runs in a worker process): `data`, or the file
    at `path` (a download's spool file, a local mbox), read here in pieces, never whole.
    With `out`, the parsed messages are written there in batches (see the module doc);
    without, they are returned in memory (small volumes: tests, tools).

    Every source kind but Maildir delivers mbox-format volumes (pipermail text, mbox files,
    HyperKitty's mbox export), so one splitter serves them all; a Maildir volume's `data`
    lists its message files, read here one by one (`ingest.sources.maildir`).
    A volume that decompresses to more than `limits.max_volume_bytes` fails; a message larger
    than `limits.max_message_bytes` is quarantined with the first bytes of it; a message
    that any per-message step fails on (`build_item`) is quarantined with the reason."""
    pieces: Iterator[Piece]
    seen = [0]  # text bytes read (the most of any pass over the volume)
    if kind == "maildir":
        pieces = maildir.read_pieces(
            volume,
            data,
            limits.max_volume_bytes,
            limits.max_message_bytes,
            limits.quarantine_keep_bytes,
        )
    else:
        opened: ChunkSource = file_chunks(Path(path)) if path else bytes_chunks(data)
        text = counted(volume_text(opened, volume.url, limits.max_volume_bytes), seen)
        pieces = split_stream(text, limits.max_message_bytes, limits.quarantine_keep_bytes)
    sink = _Sink(out, limits.batch_messages, limits.batch_bytes)
    # Archives repeat messages byte for byte (twisted-python has whole months archived twice,
    # with From_ lines that differ): parse each distinct message once; the copies are only
    # counted (in the store they would be duplicates of the first, on the same list).  The
    # From_ line only matters when the parser fell back to it for the date, so such messages
    # are parsed each time.
    done: set[bytes] = set()
    repeats = failures = 0
    try:
        for position, piece in enumerate(pieces):
            if kind == "maildir":
                seen[0] += piece.size
            if piece.truncated:
                sink.quarantine(limits.oversized(volume.name, position, piece))
                continue
            digest = hashlib.sha256(piece.raw).digest()
            if digest in done:
                repeats += 1
                continue
            try:
                item = build_item(
                    piece.raw,
                    piece.unixfrom,
                    volume.name,
                    position,
                    limits.max_mime_depth,
                    limits.max_deep_parts,
                )
            except Rejected as exc:
                failures += exc.failure
                sink.quarantine(Quarantined(volume.name, position, exc.reason, piece.raw))
                continue
            if item.row[_DATE_SOURCE] != "unixfrom" and len(done) < limits.dedup_digests:
                done.add(digest)
            sink.add(item, len(piece.raw))
        sink.close()
    except SourceError as exc:
        sink.close(flush=False)
        return ParsedVolume([], [], error=exc.reason)
    except OSError as exc:
        sink.close(flush=False)
        return ParsedVolume([], [], error=f"cannot read {path or volume.url}: {exc.strerror}")
    return ParsedVolume(
        sink.items,
        sink.bad,
        repeats=repeats,
        failures=failures,
        text_bytes=seen[0],
        batches=out,
        count=sink.count,
    )


class _Sink:
    """Where parsed messages go: batches written to `out` as they fill, or memory."""

    def __init__(self, out: str, batch_messages: int, batch_bytes: int) -> None:
        self.handle: BinaryIO | None = open(out, "wb") if out else None  # noqa: SIM115
        self.batch_messages = batch_messages
        self.batch_bytes = batch_bytes
        self.items: list[StoredItem] = []
        self.bad: list[Quarantined] = []
        self.size = 0
        self.count = 0

    def add(self, item: StoredItem, size: int) -> None:
        self.items.append(item)
        self._added(size)

    def quarantine(self, bad: Quarantined) -> None:
        self.bad.append(bad)
        self._added(len(bad.raw))

    def _added(self, size: int) -> None:
        self.count += 1
        self.size += size
        if self.handle is not None and (
            len(self.items) + len(self.bad) >= self.batch_messages or self.size >= self.batch_bytes
        ):
            self._flush()

    def _flush(self) -> None:
        assert self.handle is not None
        if self.items or self.bad:
            pickle.dump(
                Batch(self.items, self.bad, self.size), self.handle, pickle.HIGHEST_PROTOCOL
            )
        self.items, self.bad, self.size = [], [], 0

    def close(self, *, flush: bool = True) -> None:
        if self.handle is not None and not self.handle.closed:
            if flush:
                self._flush()
            self.handle.close()


def counted(text: ChunkSource, seen: list[int]) -> ChunkSource:
    """`text`, noting in `seen[0]` the most bytes one pass over it gave."""

    def chunks() -> Iterator[bytes]:
        total = 0
        for chunk in text():
            total += len(chunk)
            seen[0] = max(seen[0], total)
            yield chunk

    return chunks


_DATE_SOURCE = MESSAGE_COLUMNS.index("date_source")
