"""A gunicorn worker that slow clients cannot starve: `webui.worker.BufferingThreadWorker`.

gunicorn's `gthread` worker hands a connection to a thread as soon as its first byte arrives;
the thread then blocks reading the rest of the request, so a few clients that send one byte a
second (slowloris) hold every thread and nobody else is answered.  This worker reads each
request (head and body) in the worker's event loop, without a thread, and gives it to a thread
only once it has arrived whole: a thread never waits for a client.  A request must arrive
within `timeout` seconds (gunicorn's `--timeout`, the `web.timeout` setting) or the connection
is closed; a head over `MAX_HEAD` bytes is refused with 431, a body over `MAX_BODY` with 413,
and a chunked body (no browser sends one to this UI) with 411 (`webui.arrival`, pure).
Connections kept alive wait in the loop the same way, and at most `worker_connections` are
open per worker.

The response side is the same (`webui.sending`): a thread writes a response only as fast as
the kernel takes it, never waiting, and hands the connection back to the loop once
`HIGH_WATER` bytes wait for the client; the loop writes them as it takes them, and a thread
produces the rest of a streamed response only once they are out.  A response that makes no
progress for `timeout` seconds, or is not taken whole within `web.send_timeout`, is cut.
"""

from __future__ import annotations

import errno
import io
import logging
import selectors
import time
from datetime import datetime
from functools import partial
from typing import Any

from gunicorn.http import wsgi
from gunicorn.workers.gthread import TConn, ThreadWorker

from config.settings import SETTINGS_BY_NAME, Settings
from webui.arrival import Arrival, arrival
from webui.sending import HIGH_WATER, Lingering, Outbox, Sending, discard_unsent, done

logger = logging.getLogger(__name__)

_READ = 64 * 1024
WORKER_CLASS = "webui.worker.BufferingThreadWorker"
KEEPALIVE = 2
"""Seconds an idle kept-alive connection stays open."""
_PARKED = object()
"""What a thread returns for a response the event loop goes on writing."""


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


class Conn(TConn):  # type: ignore[misc]
    """A plain-HTTP connection whose graceful close lingers in the worker's loop, not in it."""

    def __init__(self, worker: BufferingThreadWorker, *args: Any) -> None:
        super().__init__(*args)
        self.worker = worker
        self.sending: Sending | None = None

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.worker.lingering.start(self.worker.poller, self.sock)
        else:
            super().close()


class BufferingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, except that a thread gets a connection only when its request has arrived, and
    only while its client takes the response."""

    alive: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arriving: set[Any] = set()
        self.writing: set[Conn] = set()
        self.lingering = Lingering()

    @property
    def send_timeout(self) -> float:
        """`web.send_timeout` of the app served (its default for another app)."""
        config = getattr(self.wsgi, "config", None) or {}
        settings = config.get("LISTARCHIVE_SETTINGS")
        if settings is None:
            return float(SETTINGS_BY_NAME["web.send_timeout"].default)
        return float(settings["web.send_timeout"])

    # -- requests arrive in the loop -----------------------------------------------------

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
        self._wait_for_request(Conn(self, self.cfg, client, address, listener.getsockname()))

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
        self.writing.discard(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        conn.close()

    def murder_keepalived(self, *args: Any, **kwargs: Any) -> None:
        """Also close, once a second, the connections whose request did not arrive in time,
        whose response stalls or takes too long, and the lingering ones past their time."""
        super().murder_keepalived(*args, **kwargs)
        now = time.monotonic()
        for conn in [c for c in self.arriving if c.arrival_deadline <= now]:
            logger.info("closed a connection from %s: its request took too long", conn.client)
            self._drop(conn)
        for conn in list(self.writing):
            sending = conn.sending
            assert sending is not None
            sending.outbox.kernel_progress()
            if sending.deadline <= now:
                why = f"its response was not taken within {self.send_timeout:g} s"
            elif sending.outbox.progress + self.cfg.timeout <= now:
                why = f"it took none of its response for {self.cfg.timeout} s"
            else:
                continue
            logger.info("closed a connection from %s: %s", conn.client, why)
            self._end(sending)
            discard_unsent(conn.sock)
            self._drop(conn)
        self.lingering.expire(self.poller, now)

    # -- responses are written as fast as the client takes them -----------------------------

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
            self._keep_rest(conn)
        return keep

    def _keep_rest(self, conn: Any) -> None:
        # a pipelined request read with this one: only a whole one goes on to a thread
        rest = conn.parser.unreader.buf.getvalue()
        if rest and arrival(rest) is Arrival.INCOMPLETE:
            conn.parser.unreader.buf = io.BytesIO()
            conn.arrived = bytearray(rest)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """gthread's, except that the response goes through an `Outbox`: True/False when it
        was sent whole (keep the connection or not), `_PARKED` when the loop goes on."""
        if not isinstance(conn, Conn):
            return super().handle_request(req, conn)
        outbox = Outbox(conn.sock)
        sending: Sending | None = None
        try:
            self.cfg.pre_request(self, req)
            resp, environ = wsgi.create(req, outbox, conn.client, conn.server, self.cfg)
            environ["wsgi.multithread"] = True
            self.nr += 1
            if self.nr >= self.max_requests:
                if self.alive:
                    self.log.info("Autorestarting worker after current request.")
                    self.alive = False
                resp.force_close()
            if not self.alive or not self.cfg.keepalive:
                resp.force_close()
            elif len(self.keepalived_conns) >= self.max_keepalived:
                resp.force_close()
            deadline = time.monotonic() + self.send_timeout
            sending = Sending(req, resp, environ, None, outbox, deadline)
            sending.respiter = self.wsgi(environ, resp.start_response)
            sending.items = iter(sending.respiter)
        except BaseException:
            if sending is not None:
                self._end(sending)
            else:
                self._post_request(req, {}, None)
            raise
        conn.sending = sending
        return self._produce(sending, conn.client)

    def _keepalive_after(self, conn: Any, keepalive: Any) -> Any:
        if keepalive is _PARKED:  # the request's unread body goes now, the response later
            conn.sending.drained = bool(super()._keepalive_after(conn, True))
            return _PARKED
        return super()._keepalive_after(conn, keepalive)

    def _produce(self, sending: Sending, client: Any) -> Any:
        """In a thread: the app's pieces while fewer than HIGH_WATER bytes wait for the client."""
        resp = sending.resp
        try:
            while len(sending.outbox) <= HIGH_WATER:
                if time.monotonic() >= sending.deadline:
                    logger.info(
                        "cut a response to %s: not taken within %g s", client, self.send_timeout
                    )
                    self._end(sending)
                    discard_unsent(sending.outbox.sock)
                    return False
                assert sending.items is not None
                item = next(sending.items, None)
                if item is None:
                    break
                resp.write(item)
            else:
                return _PARKED
            resp.close()
        except OSError:
            self._end(sending)
            return False  # the client went away
        except Exception:
            self._end(sending)
            if not resp.headers_sent:
                raise  # gthread answers 500
            logger.exception("error while writing a response (cut)")
            return False
        self._end(sending)
        sending.keep = not resp.should_close()
        if sending.outbox:
            sending.done = True
            return _PARKED
        return sending.keep

    def _continue(self, conn: Conn) -> Any:
        """In a thread: more of a parked response, once the client took what it had."""
        sending = conn.sending
        assert sending is not None
        try:
            result = self._produce(sending, conn.client)
        except Exception:
            logger.exception("error while writing a response (cut)")
            return False
        if result is _PARKED:
            return result
        keep = bool(result) and sending.drained
        if keep:
            self._keep_rest(conn)
        return keep

    def _end(self, sending: Sending) -> None:
        """What gthread does after a response (once): access log, close the iterator, hook."""
        if sending.ended:
            return
        sending.ended = True
        try:
            self.log.access(
                sending.resp, sending.req, sending.environ, datetime.now() - sending.started
            )
        finally:
            try:
                if hasattr(sending.respiter, "close"):
                    sending.respiter.close()
            finally:
                self._post_request(sending.req, sending.environ, sending.resp)

    def _post_request(self, req: Any, environ: dict[str, Any], resp: Any) -> None:
        try:
            self.cfg.post_request(self, req, environ, resp)
        except Exception:
            logger.exception("Exception in post_request hook")

    def finish_request(self, conn: Any, fs: Any) -> None:
        """In the loop: a parked response is written from here, the rest as gthread does."""
        if not fs.cancelled() and fs.exception() is None and fs.result() is _PARKED:
            self.writing.add(conn)
            self.poller.register(conn.sock, selectors.EVENT_WRITE, partial(self._on_writable, conn))
            return
        if isinstance(conn, Conn):
            conn.sending = None
        super().finish_request(conn, fs)

    def _on_writable(self, conn: Conn, _sock: Any) -> None:
        sending = conn.sending
        assert sending is not None
        try:
            sending.outbox.flush()
        except OSError:
            self._end(sending)
            self._drop(conn)
            return
        if sending.outbox:
            return
        self.writing.discard(conn)
        self.poller.unregister(conn.sock)
        if sending.done:
            keep = sending.keep and sending.drained
            if keep:
                self._keep_rest(conn)
            self.finish_request(conn, done(keep))
            return
        future = self.tpool.submit(self._continue, conn)
        future.add_done_callback(
            lambda fut: self.method_queue.defer(self.finish_request, conn, fut)
        )
