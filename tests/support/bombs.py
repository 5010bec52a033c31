"""Hostile archive volumes generated at test time (never committed): gzip bombs, huge
messages, deep MIME, and a pipermail list of such volumes served from an `ArchiveServer`."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator, Mapping

from tests.support.archive_server import ArchiveServer

FROM_LINE = b"From alice at example.org  Thu May  1 17:51:24 2008\n"


def message(number: int, body: bytes = b"hello\n", *, subject: str = "") -> bytes:
    """One mbox entry (From_ line included) of a small valid message."""
    return (
        FROM_LINE + b"From: alice at example.org (Alice)\n"
        b"Date: Thu, 1 May 2008 17:51:24 +0000\n"
        + f"Subject: {subject or f'message {number}'}\n".encode()
        + f"Message-ID: <m{number}@example.org>\n\n".encode()
        + body
        + b"\n"
    )


def mbox(*numbers: int) -> bytes:
    return b"".join(message(n) for n in numbers)


def _filler(total: int) -> Iterator[bytes]:
    line = b"x" * 1023 + b"\n"
    block = line * (1 << 10)  # 1 MiB
    left = total
    while left > 0:
        piece = block[:left]
        left -= len(piece)
        yield piece


def gzip_bomb(expanded: int, *, head: bytes = b"") -> bytes:
    """A gzip stream of one message header whose body makes the whole `expanded` bytes
    (compresses about 480:1: 1 GiB gives a file of about 2.2 MB)."""
    head = head or message(0, b"")
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compressor.compress(head)]
    for piece in _filler(expanded - len(head)):
        out.append(compressor.compress(piece))
    out.append(compressor.flush())
    return b"".join(out)


def huge_message(number: int, size: int) -> bytes:
    """An mbox entry of a message whose body makes it `size` bytes long."""
    head = message(number, b"")
    return head + b"".join(_filler(size - len(head) - 1)) + b"\n"


def deep_mime(levels: int, text: str = "deep secret text") -> bytes:
    """A message with `levels` nested multipart/mixed containers around one text part."""
    out = [
        b"From: alice@example.org\nSubject: deep\nMessage-ID: <deep@example.org>\n"
        b"Date: Thu, 1 May 2008 10:00:00 +0000\nMIME-Version: 1.0\n"
    ]
    for level in range(levels):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (level, level))
    out.append(b"Content-Type: text/plain\n\n" + text.encode() + b"\n")
    for level in reversed(range(levels)):
        out.append(b"--b%d--\n" % level)
    return b"".join(out)


def serve_list(server: ArchiveServer, name: str, volumes: Mapping[str, bytes]) -> str:
    """Serve a pipermail list `name` whose index links `volumes` (period -> mbox bytes or
    gzip data: gzip data is served as `.txt.gz`, the rest as `.txt`); returns its URL."""
    path = f"/pipermail/{name}/"
    links = []
    for period, data in volumes.items():
        suffix = ".txt.gz" if data[:2] == b"\x1f\x8b" else ".txt"
        server.overlay[f"{path}{period}{suffix}"] = data
        links.append(f'<a href="{period}{suffix}">{period}</a>')
    server.overlay[path] = f"<html><body>{' '.join(links)}</body></html>".encode()
    return server.url(path)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, 1)
