"""The response side of `webui.worker.BufferingThreadWorker`: writing without waiting.

A thread hands each response to an `Outbox`, which sends what the kernel takes at once and
keeps the rest; the worker's event loop writes that rest as the client takes it (`Sending` is
the response meanwhile).  `Lingering` closes connections gracefully in the loop.  Why and the
limits: docs/security.md, "Slow clients"."""

from __future__ import annotations

import fcntl
import selectors
import socket
import struct
import termios
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

HIGH_WATER = 256 * 1024
"""Bytes of a response a client has not taken yet beyond which no thread produces more."""
LINGER = 2.0
"""Seconds a gracefully closed connection is read (and what it sends dropped) before closing."""
LINGER_BYTES = 64 * 1024
_READ = 64 * 1024


class Outbox:
    """Stands in for the socket under gunicorn's `Response`: what it is given is sent as far
    as the kernel takes it at once (never waiting) and the rest kept, in order, for later."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = bytearray()
        self.progress = time.monotonic()
        """When the client last took bytes (or the response started)."""
        self.queued = -1

    def __len__(self) -> int:
        return len(self.pending)

    def sendall(self, data: bytes) -> None:
        self.pending += data
        self.flush()

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def flush(self) -> None:
        """Send what the kernel takes now; OSError when the client is gone."""
        while self.pending:
            try:
                sent = self.sock.send(self.pending, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            del self.pending[:sent]
            self.progress = time.monotonic()

    def kernel_progress(self) -> None:
        """Count it as progress when the kernel's queue of unacknowledged bytes shrank: a
        client reading slowly from a big socket buffer is not one that stopped reading."""
        try:
            out = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        except (OSError, AttributeError, ValueError):
            return  # not Linux: only what the outbox sends counts
        queued: int = struct.unpack("i", out)[0]
        if queued < self.queued:
            self.progress = time.monotonic()
        self.queued = queued


@dataclass
class Sending:
    """A response being written: gunicorn's request, response and the app's iterator."""

    req: Any
    resp: Any
    environ: dict[str, Any]
    respiter: Any
    outbox: Outbox
    deadline: float
    started: datetime = field(default_factory=datetime.now)
    items: Iterator[bytes] | None = None
    done: bool = False
    """All of it produced (and logged): only `outbox` is left to send."""
    keep: bool = False
    drained: bool = False
    ended: bool = False


def discard_unsent(sock: socket.socket) -> None:
    """Make closing `sock` reset it, dropping what the kernel still holds of a response that
    is cut anyway (else it would trickle out to a slow reader for minutes)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


def done(result: bool) -> Future[bool]:
    future: Future[bool] = Future()
    future.set_result(result)
    return future


class Lingering:
    """Sockets closed as gunicorn's close_graceful does (FIN, then drop what the client still
    sends until it closes, LINGER seconds or LINGER_BYTES), without waiting for the client:
    in the worker's loop a wait would stop every other connection."""

    def __init__(self) -> None:
        self.socks: dict[socket.socket, list[float]] = {}
        """Each socket's [deadline, bytes read]."""

    def start(self, poller: selectors.BaseSelector, sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            poller.register(sock, selectors.EVENT_READ, partial(self._on_readable, poller))
        except (OSError, ValueError, KeyError):
            sock.close()
            return
        self.socks[sock] = [time.monotonic() + LINGER, 0]

    def _on_readable(self, poller: selectors.BaseSelector, sock: socket.socket) -> None:
        try:
            data = sock.recv(_READ)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self.socks[sock][1] += len(data)
        if not data or self.socks[sock][1] >= LINGER_BYTES:
            self._close(poller, sock)

    def expire(self, poller: selectors.BaseSelector, now: float) -> None:
        for sock in [s for s, (deadline, _) in self.socks.items() if deadline <= now]:
            self._close(poller, sock)

    def _close(self, poller: selectors.BaseSelector, sock: socket.socket) -> None:
        del self.socks[sock]
        try:
            poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        sock.close()
