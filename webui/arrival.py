"""Has a request arrived whole?  The request side of `webui.worker.BufferingThreadWorker`,
pure: `arrival` looks at the bytes a connection has sent and says whether they hold a whole
request (head and body), are still arriving, or must be refused (with the response to send):
a head over `MAX_HEAD` bytes (431), a body over `MAX_BODY` (413), a chunked body (411)."""

from __future__ import annotations

import enum

MAX_HEAD = 32 * 1024
"""Bytes of request line and headers (cookies included) a request may have."""
MAX_BODY = 64 * 1024
"""Bytes of request body: the UI only takes small forms (log in, confirm, undo)."""


class Arrival(enum.Enum):
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"


def _refusal(status: str) -> bytes:
    return f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode()


REFUSE_HEAD = _refusal("431 Request Header Fields Too Large")
REFUSE_BODY = _refusal("413 Content Too Large")
REFUSE_CHUNKED = _refusal("411 Length Required")


def arrival(data: bytes, max_head: int = MAX_HEAD, max_body: int = MAX_BODY) -> Arrival | bytes:
    """Whether `data` (what a connection has sent since its last request) holds a whole
    request, is still arriving, or must be refused (the response bytes to send).

    A malformed request counts as complete: gunicorn's parser refuses it without waiting."""
    if data.startswith(b"\r\n"):
        data = data[2:]
    end = data.find(b"\r\n\r\n")
    head = data if end < 0 else data[:end]
    if head.count(b"\n") != head.count(b"\r\n"):
        return Arrival.COMPLETE  # a bare LF: gunicorn answers 400 at once
    if len(head) > max_head:
        return REFUSE_HEAD
    if end < 0:
        return Arrival.INCOMPLETE
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return REFUSE_CHUNKED
        if name == b"content-length":
            try:
                length = max(length, int(value.strip()))
            except ValueError:
                return Arrival.COMPLETE  # gunicorn answers 400
    if length > max_body:
        return REFUSE_BODY
    return Arrival.COMPLETE if len(data) - (end + 4) >= length else Arrival.INCOMPLETE
