"""Cut mbox data into messages, tolerant of pipermail's unescaped `From ` body lines.

A line starts a new message only if it looks like a real From_ line (`From <sender> <asctime>`).
Pipermail does not escape body lines that start with `From `, so a fragment that follows such a
line and has no header block is glued back onto the previous message.  `>From ` lines are
unescaped one level (mboxrd; for mboxo this is the same for the single-`>` case, which is the
only one mboxo produces).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# `From sender  Thu May  1 17:51:24 2008` (pipermail: two spaces, `user at host` sender);
# tolerant of an optional zone and of a missing sender.
_FROM_LINE = re.compile(
    rb"^From (?:\S.*?)?\s+(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+"
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\s+\d{1,2}:\d\d(?::\d\d)?"
    rb"(?:\s+[A-Z]{2,5}|\s+[+-]\d{4})?\s+\d{4}(?:\s+[+-]\d{4})?\s*$"
    # old pipermail (1999-2001) wrote the Date header's RFC 2822 form instead of asctime:
    # `From glyph@divunal.com Mon, 2 Aug 1999 18:55:09 -0400 (EDT)`
    rb"|^From \S+\s+(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s+\d{1,2}\s+"
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+\d{1,2}:\d\d(?::\d\d)?"
    rb"(?:\s+(?:[+-]\d{4}|[A-Z]{2,5}))?(?:\s+\([A-Za-z]{2,5}\))?\s*$",
)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")
_UNESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_SHORT_LINE = 8192
_TAIL = 512
_SPACE = re.compile(rb"\s")


def is_from_line(line: bytes) -> bool:
    """A real From_ line (`From <sender> <date>`), however long its sender.

    A line of more than 8 KiB (a sender of thousands of bytes) is checked on its start and
    its last bytes only, where the date is: the pattern never backtracks over megabytes."""
    if len(line) <= _SHORT_LINE:
        return bool(_FROM_LINE.match(line))
    if not line.startswith(b"From "):
        return False
    tail = line.rstrip()[-_TAIL:]
    space = _SPACE.search(tail)
    return space is not None and bool(_FROM_LINE.match(b"From x" + tail[space.start() :]))


def _has_header_block(chunk: bytes) -> bool:
    """True when the text after the From_ line starts with at least one RFC 5322 header."""
    first_line = chunk.split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first_line))


def _line_starts(data: bytes) -> Iterator[int]:
    """Offsets of lines that start with `From ` (substring search: fast on large volumes)."""
    if data.startswith(b"From "):
        yield 0
    position = data.find(b"\nFrom ")
    while position >= 0:
        yield position + 1
        position = data.find(b"\nFrom ", position + 1)


def _line_at(data: bytes, start: int) -> bytes:
    end = data.find(b"\n", start)
    return data[start:] if end < 0 else data[start:end]


def split_mbox(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (unixfrom, raw message) pairs; unixfrom lacks the leading `From `."""
    data = data.replace(b"\r\n", b"\n")
    if not data.startswith(b"From "):
        if data.strip():
            yield "", _UNESCAPE.sub(rb"\1", data)
        return
    starts = [start for start in _line_starts(data) if is_from_line(_line_at(data, start))]
    if not starts:
        # an envelope-date format we do not know: never lose the volume, fall back to any
        # `From ` line that is followed by a header line
        starts = [
            start
            for start in _line_starts(data)
            if _has_header_block(data[data.find(b"\n", start) + 1 :][:200])
        ] or [0]
    pieces: list[tuple[bytes, bytes]] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(data)
        line_end = data.find(b"\n", start, end)
        if line_end < 0:
            line_end = end
        from_line = data[start + 5 : line_end]
        body = data[line_end + 1 : end]
        if pieces and not _has_header_block(body):
            previous_line, previous_body = pieces[-1]
            pieces[-1] = (previous_line, previous_body + data[start:end])
            continue
        pieces.append((from_line, body))
    for from_line, body in pieces:
        if body.endswith(b"\n\n"):
            body = body[:-1]
        if b">From " in body:
            body = _UNESCAPE.sub(rb"\1", body)
        yield from_line.decode("latin-1").strip(), body


def is_mbox(data: bytes) -> bool:
    head = data[:2000].lstrip()
    return head.startswith(b"From ") or bool(_HEADER_LINE.match(head.split(b"\n", 1)[0]))
