"""What the local test HTTP servers (archive, Mailman 2, HyperKitty) share: a quiet threaded
server started on a free port, and a keep-alive request handler that answers in one place."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up early (timeouts, pool shutdown) is not a test failure."""


def serve_in_thread(handler: type[BaseHTTPRequestHandler]) -> QuietServer:
    """A server for `handler` on 127.0.0.1 (a free port: `server.server_address[1]`),
    serving from a daemon thread."""
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shut_down(server: QuietServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms
        # to every keep-alive request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_body(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        """The whole answer: status, the headers given (empty values left out), the length."""
        self.send_response(status)
        for name, value in headers.items():
            if value:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
