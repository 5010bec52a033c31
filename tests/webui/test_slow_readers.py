"""Slow readers (issue 11, D5) cannot take the web UI down: clients that ask for big responses
(a message's source, a thread's mbox) and then do not read them hold no thread of a real
`listarchive serve` (gunicorn with `webui.worker.BufferingThreadWorker`, on 127.0.0.1): health
probes are answered meanwhile, and the readers are disconnected, a non-reader once it has taken
nothing for `web.timeout` seconds, a trickling reader after `web.send_timeout` seconds.

PROBE_WAIT bounds each probe functionally (behind readers holding every thread a probe is never
answered: gthread, or this worker before responses were parked); the figures are in
docs/security.md, from bench/slow_clients.py --readers."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.support.served import probe, serving
from tests.support.stores import index_store

WORKERS, THREADS = 1, 2
READERS = 4 * WORKERS * THREADS
TIMEOUT = 3  # web.timeout: a response taking nothing for this long is cut
SEND_TIMEOUT = 6  # web.send_timeout: a response not taken whole within this is cut
PROBES = 6
LINE = b"a line of a big message, repeated to make it some megabytes long ...........\n"


@dataclass(frozen=True)
class Big:
    data: Path
    key: str
    thread_id: str
    raw: bytes


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Big:
    root = tmp_path_factory.mktemp("readers")
    head = (
        b"From big@example.org Mon Mar  2 10:00:00 2020\n"
        b"Message-ID: <big@mid.example>\nFrom: Big <big@example.org>\n"
        b"To: big-list@example.org\nSubject: Big\nDate: Mon, 02 Mar 2020 10:00:00 +0000\n\n"
    )
    path = root / "big.mbox"
    path.write_bytes(head + LINE * (8_000_000 // len(LINE)) + b"\n")
    store = Store(root / "data" / "store.db")
    try:
        store.add_list("big-list", "mbox", paths=[str(path)])
        assert sync_list(store, "big-list", MboxSource([str(path)]), workers=1).clean
        key, thread_id = store.conn.execute("SELECT key, thread_id FROM messages").fetchone()
        raw = store.raw_bytes(key)
        index_store(store, root / "data")
    finally:
        store.close()
    assert raw is not None and len(raw) > 7_000_000
    return Big(root / "data", key, thread_id, raw)


@pytest.fixture
def server(big: Big, tmp_path: Path) -> Iterator[int]:
    settings = {
        "LISTARCHIVE_WEB_THREADS": str(THREADS),
        "LISTARCHIVE_WEB_TIMEOUT": str(TIMEOUT),
        "LISTARCHIVE_WEB_SEND_TIMEOUT": str(SEND_TIMEOUT),
    }
    with serving(big.data, tmp_path, WORKERS, settings) as port:
        yield port


def _reader(port: int, path: str) -> socket.socket:
    """A connection that asked for `path` with a small receive buffer and reads nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def _drain(sock: socket.socket, wait: float, pause: float = 0.0) -> tuple[int, float | None]:
    """Read until the server closes (bytes read, seconds taken) or `wait` passes (None)."""
    start, got = time.monotonic(), 0
    sock.settimeout(1.0)
    while time.monotonic() - start < wait:
        try:
            chunk = sock.recv(1024 if pause else 1 << 20)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return got, time.monotonic() - start
        if not chunk:
            return got, time.monotonic() - start
        got += len(chunk)
        if pause:
            time.sleep(pause)
    return got, None


def test_probes_are_answered_while_readers_do_not_read(server: int, big: Big) -> None:
    paths = [f"/messages/{big.key}/source", f"/threads/{big.thread_id}.mbox"]
    readers = [_reader(server, paths[i % 2]) for i in range(READERS)]
    try:
        time.sleep(1.0)  # every reader's response has filled its socket buffers
        answers = [probe(server) for _ in range(PROBES)]
        assert answers == [b"HTTP/1.1 200 OK"] * PROBES
        # each non-reader is cut once it has taken nothing for web.timeout seconds: reading
        # now gets what the kernels held, then the end (the rest would come, on a kept-alive
        # connection, to a reader that had not been cut)
        time.sleep(TIMEOUT + 3)
        for sock in readers:
            got, took = _drain(sock, wait=15)
            assert took is not None, "a reader was never disconnected"
            assert got < len(big.raw)
    finally:
        for sock in readers:
            sock.close()


def test_a_trickling_reader_is_cut_at_the_send_deadline(server: int, big: Big) -> None:
    with _reader(server, f"/messages/{big.key}/source") as sock:
        got, took = _drain(sock, wait=SEND_TIMEOUT + 20, pause=0.05)  # about 20 KB/s
    assert took is not None, "the trickling reader was never disconnected"
    assert 0 < got < len(big.raw)
    assert took >= SEND_TIMEOUT - 1  # it kept taking bytes: not cut as a stalled one


def test_a_reader_gets_the_whole_response(server: int, big: Big) -> None:
    """Parked and resumed over and over (it is bigger than the sockets' buffers), the source
    arrives whole, and so does the thread's mbox."""
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    try:
        conn.request("GET", f"/messages/{big.key}/source")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == big.raw
        conn.request("GET", f"/threads/{big.thread_id}.mbox")
        response = conn.getresponse()
        assert response.status == 200
        mbox = response.read()
        assert mbox.startswith(b"From big@example.org ") and big.raw in mbox
        conn.request("GET", "/healthz")  # the connection was kept alive after them
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_clients_that_do_not_close_do_not_stall_the_loop(server: int) -> None:
    """After a `Connection: close` response gunicorn waits (up to 2 s) for the client to close
    too, reading what it still sends; in the worker's loop that wait stops every other
    connection, so it lingers there without blocking.  Here clients keep coming that send a
    request and then neither read nor close, while the probes are sent."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    lingering: list[socket.socket] = []
    stop = threading.Event()

    def keep_coming() -> None:
        while not stop.wait(0.05):
            try:
                sock = socket.create_connection(("127.0.0.1", server), timeout=5)
                sock.sendall(request)
            except OSError:
                continue
            lingering.append(sock)

    thread = threading.Thread(target=keep_coming, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        answers = [probe(server) for _ in range(PROBES)]
    finally:
        stop.set()
        thread.join(timeout=10)
        for sock in lingering:
            sock.close()
    assert len(lingering) > PROBES
    assert answers == [b"HTTP/1.1 200 OK"] * PROBES
