"""A local HTTP server that misbehaves on purpose, for the tests of untrusted archives.

Each path answers with one behaviour: serve bytes, redirect (any status, any Location), drip
the body (or the headers) one byte at a time, announce a longer `Content-Length` than it sends,
or cut a chunked body before its last chunk.  Every request is recorded with its method,
path, headers and body, so a test can assert what a second server never received.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.httpbase import QuietHandler, QuietServer, serve_in_thread, shut_down


@dataclass(frozen=True)
class Serve:
    body: bytes
    content_type: str = "text/plain"


@dataclass(frozen=True)
class Redirect:
    location: str
    status: int = 302


@dataclass(frozen=True)
class Drip:
    """Send one byte every `interval` seconds: the body (with its full Content-Length
    announced) or, with `headers=True`, the status line and headers too."""

    body: bytes
    interval: float = 0.2
    headers: bool = False


@dataclass(frozen=True)
class ShortBody:
    """Announce `announced` bytes, send `body` (shorter), then close the connection."""

    body: bytes
    announced: int


@dataclass(frozen=True)
class CutChunked:
    """A chunked body cut after its chunks, before the terminating zero-length chunk."""

    body: bytes
    chunk: int = 1000


@dataclass(frozen=True)
class Chunked:
    """A complete chunked body (no Content-Length)."""

    body: bytes
    chunk: int = 1000


Behaviour = Serve | Redirect | Drip | ShortBody | CutChunked | Chunked


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HostileServer:
    routes: dict[str, Behaviour] = field(default_factory=dict)
    """Exact path (query string ignored) -> how to answer; other paths answer 404."""
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: QuietServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def start(self) -> None:
        self._server = serve_in_thread(_make_handler(self))
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        shut_down(self._server)


def running() -> Iterator[HostileServer]:
    """A started server, stopped after the test (`yield from running()` in a fixture)."""
    server = HostileServer()
    server.start()
    yield server
    server.stop()


def _make_handler(server: HostileServer) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            self._answer()

        def do_POST(self) -> None:  # noqa: N802
            self._answer()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            server.received.append(
                Received(self.command, path, {k: v for k, v in self.headers.items()}, body)
            )
            behaviour = server.routes.get(path)
            try:
                self._behave(behaviour)
            except OSError:  # the client gave up (a deadline): not a test failure
                self.close_connection = True

        def _behave(self, behaviour: Behaviour | None) -> None:
            if behaviour is None:
                self.send_body(404, b"<html><body>Not Found</body></html>", _HTML)
            elif isinstance(behaviour, Serve):
                self.send_body(200, behaviour.body, {"Content-Type": behaviour.content_type})
            elif isinstance(behaviour, Redirect):
                self.send_body(behaviour.status, b"", {"Location": behaviour.location})
            elif isinstance(behaviour, Drip):
                self._drip(behaviour)
            elif isinstance(behaviour, ShortBody):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(behaviour.announced))
                self.end_headers()
                self.wfile.write(behaviour.body)
                self.wfile.flush()
                self.close_connection = True
            else:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                data = behaviour.body
                for start in range(0, len(data), behaviour.chunk):
                    piece = data[start : start + behaviour.chunk]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                if isinstance(behaviour, Chunked):
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.close_connection = True
                self.wfile.flush()

        def _drip(self, drip: Drip) -> None:
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(drip.body)}\r\n\r\n"
            ).encode()
            if drip.headers:
                payload = head + drip.body
            else:
                self.wfile.write(head)
                payload = drip.body
            for index in range(len(payload)):
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
                time.sleep(drip.interval)

    return Handler


_HTML = {"Content-Type": "text/html"}


def message(subject: str, body: str, message_id: str) -> bytes:
    """One small mbox-format message (a pipermail volume of one message)."""
    return (
        "From someone at example.org  Mon Mar  5 10:00:00 2001\n"
        "From: someone at example.org (Someone)\n"
        "Date: Mon, 05 Mar 2001 10:00:00 +0000\n"
        f"Subject: {subject}\n"
        f"Message-ID: <{message_id}>\n\n"
        f"{body}\n\n"
    ).encode()


def index_page(*links: str) -> bytes:
    """A pipermail-like index page linking each of `links` (relative or absolute)."""
    items = "\n".join(f'<li><a href="{link}">[ Text ]</a></li>' for link in links)
    return f"<html><body><h1>Archives</h1><ul>\n{items}\n</ul></body></html>".encode()
