"""Slow clients (slowloris) cannot take the web UI down: `listarchive serve` (a real gunicorn
on 127.0.0.1) keeps answering health probes while many more clients than it has threads send
their requests one byte a second, and it closes a request that does not arrive in time.

The bound on each probe (PROBE_WAIT) is functional, not a performance figure: under gunicorn's
sync or plain gthread workers these probes are never answered (measured figures: bench/ and
the issue report)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.served import probe, serving
from webui.arrival import REFUSE_BODY, REFUSE_CHUNKED, REFUSE_HEAD, Arrival, arrival

WORKERS, THREADS = 2, 2
SLOW_CLIENTS = 4 * WORKERS * THREADS
PROBES = 6
TIMEOUT = 3  # web.timeout of the server under test: a request must arrive within it


@pytest.fixture
def server(webui_data: Path, tmp_path: Path) -> Iterator[int]:
    settings = {"LISTARCHIVE_WEB_THREADS": str(THREADS), "LISTARCHIVE_WEB_TIMEOUT": str(TIMEOUT)}
    with serving(webui_data, tmp_path, WORKERS, settings) as port:
        yield port


class SlowClients:
    """Connections that send a request one byte a second until stopped: half of them a head
    that never ends, half a complete head and then a body that trickles."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.stop = port, threading.Event()
        self.connected = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(count)
        ]

    def _run(self, index: int) -> None:
        if index % 2:
            request = b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(request)
            trickle = b"a" * 60000
        else:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            trickle = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: y\r\n" * 1000
        with self.lock:
            self.connected += 1
        with sock:
            for byte in trickle:
                if self.stop.wait(1.0):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return  # the server closed it: it may, after web.timeout

    def __enter__(self) -> SlowClients:
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + 10
        while self.connected < len(self.threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # every slow client has sent its first bytes
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


def test_health_probes_are_answered_during_a_slowloris(server: int) -> None:
    with SlowClients(server, SLOW_CLIENTS) as slow:
        assert slow.connected == SLOW_CLIENTS
        answers = []
        for _ in range(PROBES):
            answers.append(probe(server))
            if answers.count(None) == 2:
                break  # taken down: no need to wait for every probe
            time.sleep(0.5)
    assert answers == [b"HTTP/1.1 200 OK"] * PROBES


def test_a_request_that_does_not_arrive_in_time_is_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # and nothing more
        sock.settimeout(TIMEOUT + 5)
        assert sock.recv(64) == b""  # closed by the server, not by our timeout


def test_a_chunked_request_body_is_refused_at_once(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 411 ")


HEAD = b"GET / HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", Arrival.INCOMPLETE),
        (b"G", Arrival.INCOMPLETE),
        (HEAD, Arrival.INCOMPLETE),
        (HEAD + b"\r\n", Arrival.COMPLETE),
        (b"\r\n" + HEAD + b"\r\n", Arrival.COMPLETE),
        (b"GET / HTTP/1.1\n", Arrival.COMPLETE),  # bare LF: gunicorn refuses it at once
        (HEAD + b"Content-Length: 5\r\n\r\nabcd", Arrival.INCOMPLETE),
        (HEAD + b"content-length: 5\r\n\r\nabcde", Arrival.COMPLETE),
        (HEAD + b"Content-Length: 5\r\nContent-Length: 9\r\n\r\nabcde", Arrival.INCOMPLETE),
        (HEAD + b"Content-Length: x\r\n\r\n", Arrival.COMPLETE),  # gunicorn answers 400
        (HEAD + b"Content-Length: 65537\r\n\r\n", REFUSE_BODY),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n", REFUSE_CHUNKED),
        (HEAD + b"X: " + b"a" * 40_000, REFUSE_HEAD),
        (HEAD + b"X: " + b"a" * 40_000 + b"\r\n\r\n", REFUSE_HEAD),
    ],
)
def test_arrival(data: bytes, expected: Arrival | bytes) -> None:
    assert arrival(data) == expected
