"""A gunicorn worker that slow clients cannot starve: `webui.worker.BufferingThreadWorker`.

gunicorn's `gthread` worker hands a connection to a thread as soon as its first byte arrives;
the thread then blocks reading the rest of the request, so a few clients that send one byte a
second (slowloris) hold every thread and nobody else is answered.  This worker reads each
request (head and body) in the worker's event loop, without a thread, and gives it to a thread
only once it has arrived whole: a thread never waits for a client.  A request must arrive
within `timeout` seconds (gunicorn's `--timeout`, the `web.timeout` setting) or the connection
is closed; a head over `MAX_HEAD` bytes is refused with 431, a body over `MAX_BODY` with 413,
and a chunked body (no browser sends one to this UI) with 411.  Connections kept alive wait in
the loop the same way, and at most `worker_connections` are open per worker.
"""

from __future__ import annotations

import enum
import errno
import io
import logging
import selectors
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

from config.settings import Settings

logger = logging.getLogger(__name__)

MAX_HEAD = 32 * 1024
"""Bytes of request line and headers (cookies included) a request may have."""
MAX_BODY = 64 * 1024
"""Bytes of request body: the UI only takes small forms (log in, confirm, undo)."""
_READ = 64 * 1024
WORKER_CLASS = "webui.worker.BufferingThreadWorker"
KEEPALIVE = 2
"""Seconds an idle kept-alive connection stays open."""


def server_options(settings: Settings) -> dict[str, Any]:
    """The gunicorn settings every deployment uses (`listarchive serve`, and
    `gunicorn --config python:webui.gunicorn_conf` in docker-compose.yml and the Dockerfile):
    this worker, `web.threads` threads, `web.timeout`."""
    return {
        "worker_class": WORKER_CLASS,
        "threads": settings["web.threads"],
        "timeout": settings["web.timeout"],
        "keepalive": KEEPALIVE,
        "accesslog": "-",
        "control_socket_disable": True,  # no admin socket in the home directory
    }


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


class BufferingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, except that a thread gets a connection only when its request has arrived."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arriving: set[Any] = set()

    def accept(self, listener: Any) -> None:
        if self.cfg.is_ssl:  # TLS bytes are not a request: plain gthread
            super().accept(listener)
            return
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._wait_for_request(TConn(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection sends its next request: wait for all of it here too."""
        if self.cfg.is_ssl:
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._wait_for_request(conn)

    def _wait_for_request(self, conn: Any) -> None:
        if not hasattr(conn, "arrived"):
            conn.arrived = bytearray()
        conn.arrival_deadline = time.monotonic() + self.cfg.timeout
        conn.sock.setblocking(False)
        self.arriving.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: Any, _client: Any) -> None:
        try:
            chunk = conn.sock.recv(_READ)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        conn.arrived += chunk
        verdict = arrival(bytes(conn.arrived))
        if verdict is Arrival.INCOMPLETE:
            return
        if isinstance(verdict, bytes):
            logger.info("refused a request from %s: %s", conn.client, verdict.split(b"\r\n")[0])
            try:
                conn.sock.send(verdict)
            except OSError:
                pass
            self._drop(conn)
            return
        self.arriving.discard(conn)
        self.poller.unregister(conn.sock)
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: Any) -> None:
        self.arriving.discard(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        conn.close()

    def murder_keepalived(self, *args: Any, **kwargs: Any) -> None:
        """Also close the connections whose request did not arrive in time (once a second)."""
        super().murder_keepalived(*args, **kwargs)
        now = time.monotonic()
        for conn in [c for c in self.arriving if c.arrival_deadline <= now]:
            logger.info("closed a connection from %s: its request took too long", conn.client)
            self._drop(conn)

    def handle(self, conn: Any) -> Any:
        """Serve the request that arrived whole (in a thread): the parser reads it from memory."""
        arrived = getattr(conn, "arrived", None)
        if arrived is None:
            return super().handle(conn)
        conn.arrived = bytearray()
        conn.sock.setblocking(True)
        conn.init()
        conn.parser.unreader.unread(bytes(arrived))
        keep = super().handle(conn)
        if keep is True:
            # a pipelined request read with this one: only a whole one goes on to a thread
            rest = conn.parser.unreader.buf.getvalue()
            if rest and arrival(rest) is Arrival.INCOMPLETE:
                conn.parser.unreader.buf = io.BytesIO()
                conn.arrived = bytearray(rest)
        return keep
