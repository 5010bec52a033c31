"""A stored message's body and original bytes, kept as one compressed stream (issue 14).

`messages.content` is one zlib stream (deflated by ISA-L: `ISAL_LEVEL`) of the body's UTF-8
followed by the raw bytes;
`body_bytes` says where the body ends in it, `body_chars` how many characters it has.  The
body is mostly a substring of the raw bytes, so deflate's window finds it again: on
twisted-python the pair takes 33.8 MB where the compressed raw bytes alone took 32.7 MB and
the plain body 47.9 MB more (docs/architecture.md, "Store size").  The body comes first: a
page reads the stream's start from its blob and inflates only the bytes it shows
(`body_from_blocks`, `store.queries`), not the raw bytes and attachments after the body; the
raw bytes are what follows it (`raw_bytes`, `raw_pieces`).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Iterator

from isal import isal_zlib

ISAL_LEVEL = 2
"""The stream is deflated by ISA-L (the `isal` package; the same zlib format, read by `zlib`)
at its level 2: on twisted-python's 49,827 parsed messages 0.67 s of CPU instead of zlib
level 1's 1.99 s, and 2% smaller (50.7 MB instead of 51.8 MB); on the full-header exports
0.12 s instead of 0.58 s (task IN3)."""


_MAX_UTF8 = 4
"""Bytes of UTF-8 at most one character takes."""


def pack(body: str, raw: bytes) -> tuple[bytes, int, int]:
    """The stored `(content, body_bytes, body_chars)` of a body and its raw bytes; raises
    UnicodeEncodeError for a body SQLite could not have stored (lone surrogates)."""
    text = body.encode("utf-8")
    return isal_zlib.compress(text + raw, ISAL_LEVEL), len(text), len(body)


EMPTY = pack("", b"")
"""What a purged message keeps (`store.removals`)."""


def body_text(content: bytes, body_bytes: int, max_chars: int | None = None) -> str:
    """The body (None: whole; else its first `max_chars` characters, inflating at most the
    bytes those can take).  Raises UnicodeDecodeError for damaged text, zlib.error for a
    damaged stream."""
    return body_from_blocks((content,), body_bytes, max_chars)


def body_from_blocks(blocks: Iterable[bytes], body_bytes: int, max_chars: int | None = None) -> str:
    """`body_text` of the stream given `blocks` at a time (a blob read piece by piece): no
    block is asked for once the inflated bytes hold what the body (or its first `max_chars`
    characters) needs, so a message's raw bytes (its attachments) are not read for its page."""
    if body_bytes <= 0 or (max_chars is not None and max_chars <= 0):
        return ""
    want = body_bytes if max_chars is None else min(body_bytes, _MAX_UTF8 * max_chars)
    inflate = zlib.decompressobj()
    parts: list[bytes] = []
    have = 0
    for block in blocks:
        out = inflate.decompress(block, want - have)
        parts.append(out)
        have += len(out)
        if have >= want or inflate.eof:
            break
    data = b"".join(parts)
    if want == body_bytes:
        text = data.decode("utf-8")
    else:  # cut inside the body: a character split at the cut is left out, nothing before it
        text = data[: len(data) - _split_tail(data)].decode("utf-8")
    return text if max_chars is None else text[:max_chars]


def _split_tail(data: bytes) -> int:
    """How many bytes at the end of `data` begin a UTF-8 sequence it does not complete."""
    for back in range(1, min(_MAX_UTF8, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # a lead byte (or ASCII): is its sequence complete?
            need = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if need > back else 0
    return 0


def raw_bytes(content: bytes, body_bytes: int) -> bytes:
    """The message's original bytes."""
    return zlib.decompress(content)[body_bytes:]


def raw_pieces(blocks: Iterable[bytes], body_bytes: int, chunk: int) -> Iterator[bytes]:
    """The original bytes from the stored stream read `blocks` at a time, at most `chunk`
    inflated bytes a step (the body before them is inflated and dropped the same way)."""
    inflate = zlib.decompressobj()
    skip = body_bytes

    def cut(out: bytes) -> bytes:
        nonlocal skip
        if skip:
            dropped = min(skip, len(out))
            skip -= dropped
            out = out[dropped:]
        return out

    for data in blocks:
        out = inflate.decompress(data, chunk)
        while out:
            kept = cut(out)
            if kept:
                yield kept
            out = inflate.decompress(inflate.unconsumed_tail, chunk)
    rest = cut(inflate.flush())
    if rest:
        yield rest


def blob_blocks(conn: sqlite3.Connection, rowid: int, size: int) -> Iterator[bytes]:
    """The stored stream of message `rowid` read from its blob `size` bytes at a time (the
    whole column is never fetched at once)."""
    with conn.blobopen("messages", "content", rowid, readonly=True) as blob:
        yield from iter(lambda: blob.read(size), b"")
