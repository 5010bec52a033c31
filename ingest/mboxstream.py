"""Read an archive volume as a stream: gunzip it in bounded pieces and cut it into messages
without ever holding more than one message and a chunk.

The cut is the one `ingest.mboxsplit.split_mbox` makes on the whole volume (tested to give
the same messages on the corpus): a line starts a message when it is a real From_ line
followed by a header line; a `From ` body line that pipermail did not escape stays in its
message; `>From ` is unescaped one level.  Two limits bound the work, whatever the input:

* `max_volume_bytes`: the decompressed volume; past it the volume fails (`VolumeTooLarge`).
* `max_message_bytes`: one message; past it the message is no longer accumulated: only its
  first `keep` bytes and its true size are kept (`Piece.truncated`), to be quarantined.

A `From ` line is read whole to decide whether it starts a message, however long (a sender
of thousands of bytes), but never past `max_message_bytes`: a longer line is body text.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import cast

from isal import isal_zlib

from ingest.errors import SourceError
from ingest.mboxsplit import _HEADER_LINE, _UNESCAPE, is_from_line, is_mbox

CHUNK = 1 << 20
KEEP = 64 * 1024
"""Bytes of an oversized message kept for the quarantine."""
_LONGEST_FROM_LINE = 8192
_HEADER_PEEK = 1000
_HEAD = 2000
_MAX_HEAD = 64 * 1024

ChunkSource = Callable[[], Iterator[bytes]]
"""Opens the volume's bytes afresh (as sent: compressed or not), in chunks."""


class VolumeTooLarge(SourceError):
    """The volume (decompressed) is larger than `sync.max_volume_bytes`."""


@dataclass(frozen=True, slots=True)
class Piece:
    unixfrom: str
    raw: bytes
    """The message; only its first bytes when `truncated`."""
    size: int
    truncated: bool = False


def bytes_chunks(data: bytes, size: int = CHUNK) -> ChunkSource:
    def chunks() -> Iterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(data), size):
            yield bytes(view[start : start + size])

    return chunks


def file_chunks(path: Path, size: int = CHUNK) -> ChunkSource:
    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            while piece := handle.read(size):
                yield piece

    return chunks


_CORRUPT = (zlib.error, cast("type[Exception]", isal_zlib.error))
"""What inflating damaged data raises (isal's stub declares its error an instance)."""


def _gunzip(chunks: Iterable[bytes], url: str) -> Iterator[bytes]:
    """Decompress gzip members one after another (as `gzip.decompress` does), in pieces of at
    most CHUNK bytes, so a bomb never expands in memory.  ISA-L's inflate (`isal`, the
    dependency `store.content` deflates with): the same API as zlib's, 0.60 -> 0.36 s of CPU
    for twisted-python's 248 volumes (task IN3)."""
    decompressor = isal_zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = b""
    try:
        for data in chunks:
            data, pending = pending + data, b""
            while data:
                if decompressor.eof:
                    if len(data) < 2:
                        pending = data
                        break
                    if data[:2] != b"\x1f\x8b":
                        return  # trailing bytes after the last member: ignored, as gzip does
                    decompressor = isal_zlib.decompressobj(16 + zlib.MAX_WBITS)
                out = decompressor.decompress(data, CHUNK)
                if out:
                    yield out
                while (
                    len(out) == CHUNK and not decompressor.unconsumed_tail and not decompressor.eof
                ):
                    out = decompressor.decompress(b"", CHUNK)
                    if out:
                        yield out
                data = (
                    decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
                )
    except _CORRUPT as exc:
        raise SourceError(url, f"corrupt gzip data: {exc}") from exc
    if not decompressor.eof:
        raise SourceError(
            url,
            "corrupt gzip data: Compressed file ended before the end-of-stream marker was reached",
        )


def volume_text(open_raw: ChunkSource, url: str, max_volume_bytes: int) -> ChunkSource:
    """The volume's text (gunzipped when needed, CRLF made LF), checked to be an mbox archive,
    failing with `VolumeTooLarge` once more than `max_volume_bytes` came out."""

    def chunks() -> Iterator[bytes]:
        raw = open_raw()
        first = next(raw, b"")
        gzipped = first[:2] == b"\x1f\x8b"

        def again() -> Iterator[bytes]:
            yield first
            yield from raw

        stream: Iterable[bytes] = _gunzip(again(), url) if gzipped else again()
        total = 0
        head = b""
        checked = False
        held_cr = b""
        for piece in stream:
            total += len(piece)
            if total > max_volume_bytes:
                what = "decompresses to" if gzipped else "is"
                raise VolumeTooLarge(
                    url, f"{what} more than {max_volume_bytes} bytes (sync.max_volume_bytes)"
                )
            piece = held_cr + piece
            held_cr = b""
            if piece.endswith(b"\r"):
                held_cr, piece = b"\r", piece[:-1]
            piece = piece.replace(b"\r\n", b"\n")
            if not checked:
                head += piece
                if len(head.lstrip()) < _HEAD and len(head) < _MAX_HEAD:
                    continue
                _check_head(head, url)
                checked = True
                piece, head = head, b""
            if piece:
                yield piece
        if not checked:
            _check_head(head + held_cr, url)
            if head:
                yield head
        if held_cr:
            yield held_cr

    return chunks


def _check_head(head: bytes, url: str) -> None:
    start = head[:512].lstrip().lower()
    if start.startswith((b"<!doctype", b"<html", b"<head", b"<?xml")):
        raise SourceError(url, "an HTML page was served instead of an archive")
    if head.strip() and not is_mbox(head):
        raise SourceError(url, "not an mbox text archive")


class _Message:
    """One message being read: its pieces until it grows past the limit, then its size."""

    def __init__(self, unixfrom: str, limit: int, keep: int) -> None:
        self.unixfrom = unixfrom
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.keep = keep
        self.truncated = False

    def add(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.truncated:
            return
        self.parts.append(data)
        if self.size > self.limit:
            self.truncated = True
            prefix, need = [], self.keep
            for part in self.parts:  # the first `keep` bytes, without joining the rest
                if need <= 0:
                    break
                prefix.append(part[:need])
                need -= len(prefix[-1])
            self.parts = [b"".join(prefix)]

    def piece(self, *, trim: bool) -> Piece:
        raw = b"".join(self.parts)
        if not self.truncated:
            if trim and raw.endswith(b"\n\n"):
                raw = raw[:-1]
            if b">From " in raw:
                raw = _UNESCAPE.sub(rb"\1", raw)
        return Piece(self.unixfrom, raw, self.size, self.truncated)


Classify = Callable[[bytes, bytes, bool], bool]
"""(From_ line, start of the next line, no message yet) -> does a message start here?"""


def _header(next_line: bytes) -> bool:
    return bool(_HEADER_LINE.match(next_line))


def _strict(line: bytes, next_line: bytes, first: bool) -> bool:
    return is_from_line(line) and (first or _header(next_line))


def _loose(line: bytes, next_line: bytes, first: bool) -> bool:
    return _header(next_line)


def _first_only(line: bytes, next_line: bytes, first: bool) -> bool:
    return first


def _cut(
    chunks: Iterable[bytes], classify: Classify, limit: int, keep: int, longest: int
) -> Iterator[Piece]:
    """Cut at the `From ` lines `classify` accepts; what comes before the first is dropped.
    A `From ` line longer than `longest` bytes is body text (it is never held longer)."""
    current: _Message | None = None
    buf = b""
    at_line_start = True
    source = iter(chunks)
    eof = False
    while not eof:
        chunk = next(source, None)
        eof = chunk is None
        buf += chunk or b""
        pos = 0  # bytes before pos belong to the current message (or are dropped)
        search = 0
        wait: int | None = None  # a `From ` line whose line or next line is incomplete
        while True:
            if search == 0 and at_line_start and buf.startswith(b"From "):
                start = 0
            else:
                found = buf.find(b"\nFrom ", max(search - 1, 0))
                if found < 0:
                    break
                start = found + 1
            search = start + 1
            end = buf.find(b"\n", start, start + longest)
            if end < 0:
                if len(buf) - start >= longest:
                    continue  # longer than a message may be: body text
                if not eof:
                    wait = start
                    break
                end = len(buf)
            next_end = buf.find(b"\n", end + 1, end + 1 + _HEADER_PEEK)
            if next_end < 0:
                if not eof and len(buf) - end - 1 < _HEADER_PEEK:
                    wait = start
                    break
                next_end = min(len(buf), end + 1 + _HEADER_PEEK)
            line = buf[start:end]
            if not classify(line, buf[end + 1 : next_end], current is None):
                continue
            if current is not None:
                current.add(buf[pos:start])
                yield current.piece(trim=True)
            current = _Message(line[5:].decode("latin-1").strip(), limit, keep)
            pos = search = min(end + 1, len(buf))
        if eof:
            if current is not None:
                current.add(buf[pos:])
                yield current.piece(trim=True)
            return
        # keep a `From ` line not yet decided, or what may be the start of `\nFrom `
        cut = wait if wait is not None else max(pos, len(buf) - 5)
        if current is not None:
            current.add(buf[pos:cut])
        at_line_start = buf[cut - 1 : cut] == b"\n" if cut else at_line_start
        buf = buf[cut:]


def _single(chunks: Iterable[bytes], limit: int, keep: int) -> Iterator[Piece]:
    message = _Message("", limit, keep)
    blank = True
    for chunk in chunks:
        blank = blank and not chunk.strip()
        message.add(chunk)
    if not blank:
        yield message.piece(trim=False)


def _first_line(chunks: Iterator[bytes], longest: int) -> tuple[bytes, list[bytes]]:
    """The first line of the text (at most `longest` bytes) and the chunks read to find it,
    which the caller cuts first: the volume is read (and gunzipped) once, not twice."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > longest:
            break
    head = parts[0] if len(parts) == 1 else b"".join(parts)
    end = head.find(b"\n", 0, longest)
    return head[: end if end >= 0 else longest], parts


def split_stream(text: ChunkSource, max_message_bytes: int, keep: int = KEEP) -> Iterator[Piece]:
    """Cut a volume's text (see `volume_text`) into messages, as `split_mbox` would."""
    longest = max(max_message_bytes, _LONGEST_FROM_LINE)
    chunks = iter(text())
    first, read = _first_line(chunks, longest)
    if not first.startswith(b"From "):
        yield from _single(chain(read, chunks), max_message_bytes, keep)
        return
    classify: Classify = _strict
    if not is_from_line(first):
        # an envelope format we do not know, or junk before the first real From_ line:
        # look through the volume once to decide how to cut it (rare, never big in memory)
        seen = {"strict": False, "loose": False}

        def survey(line: bytes, next_line: bytes, first: bool) -> bool:
            seen["strict"] = seen["strict"] or is_from_line(line)
            seen["loose"] = seen["loose"] or _header(next_line)
            return False

        for _ in _cut(text(), survey, 0, 0, longest):
            pass
        if not seen["strict"]:
            classify = _loose if seen["loose"] else _first_only
        read, chunks = [], iter(text())  # from the start again
    yield from _cut(chain(read, chunks), classify, max_message_bytes, keep, longest)
