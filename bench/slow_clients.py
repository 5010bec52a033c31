"""Slow-client benchmark (issue 11): latency of GET /healthz while N clients send their
requests one byte a second (slowloris), or, with --readers, while N clients ask for an 8 MB
message's source and never read it (4 KiB receive buffer), under a given gunicorn worker class.

gunicorn runs on 127.0.0.1 with the web UI over an empty store; each probe waits at most
--wait seconds (`-` in the output: not answered).  Compare the old configuration (`sync`,
`gthread`) with the one listarchive deploys (`webui.worker.BufferingThreadWorker`):

.venv/bin/python bench/slow_clients.py --worker-class sync --clients 4
.venv/bin/python bench/slow_clients.py --worker-class webui.worker.BufferingThreadWorker \
    --clients 200
.venv/bin/python bench/slow_clients.py --readers --clients 64
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._common import REPO, free_port  # noqa: E402
from ingest.sources.mbox import MboxSource  # noqa: E402
from ingest.sync import sync_list  # noqa: E402
from search import indexer  # noqa: E402
from search.factory import open_backend  # noqa: E402
from store.store import Store  # noqa: E402

LINE = b"a line of a big message, repeated to make it some megabytes long ...........\n"


def probe(port: int, wait: float) -> float | None:
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
            sock.settimeout(wait)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            if not sock.recv(64).startswith(b"HTTP/1.1 "):
                return None
    except OSError:
        return None
    return time.monotonic() - start


def slow_client(port: int, stop: threading.Event) -> None:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    with sock:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: y\r\n" * 1000:
            try:
                sock.send(bytes([byte]))
            except OSError:
                return
            if stop.wait(1.0):
                return


def non_reader(port: int, path: str, stop: threading.Event) -> None:
    """Ask for `path` and read nothing (until stopped, or closed by the server)."""
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    except OSError:
        return
    with sock:
        stop.wait()


def big_store(data: Path) -> str:
    """A store (and search index) holding one 8 MB message; its key."""
    mbox = data / "big.mbox"
    head = b"From big@example.org Mon Mar  2 10:00:00 2020\nMessage-ID: <big@mid.example>\n"
    mbox.write_bytes(head + b"Subject: Big\n\n" + LINE * (8_000_000 // len(LINE)) + b"\n")
    store = Store(data / "store.db")
    try:
        store.add_list("big-list", "mbox", paths=[str(mbox)])
        sync_list(store, "big-list", MboxSource([str(mbox)]), workers=1)
        backend = open_backend("sqlite", data)
        try:
            indexer.catch_up(store, backend)
        finally:
            backend.close()
        key: str = store.conn.execute("SELECT key FROM messages").fetchone()[0]
    finally:
        store.close()
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker-class", default="webui.worker.BufferingThreadWorker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--probes", type=int, default=8)
    parser.add_argument("--wait", type=float, default=5.0)
    parser.add_argument("--readers", action="store_true", help="non-readers, not slowloris")
    args = parser.parse_args()
    if args.worker_class == "sync":
        args.threads = 1  # gunicorn turns sync with threads into gthread
    with tempfile.TemporaryDirectory() as tmp:
        if args.readers:
            source = f"/messages/{big_store(Path(tmp))}/source"
        else:
            Store(Path(tmp) / "store.db").close()
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(args.workers), "--threads", str(args.threads)]
            + ["--worker-class", args.worker_class, "--timeout", "30", "--keep-alive", "2"]
            + ["--no-control-socket", "webui:create_app()"],
            cwd=REPO,
            env={**os.environ, "LISTARCHIVE_DATA_DIR": tmp},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while probe(port, 1.0) is None:
                time.sleep(0.2)
            stop = threading.Event()
            for _ in range(args.clients):
                client: Callable[[], None] = (
                    partial(non_reader, port, source, stop)
                    if args.readers
                    else partial(slow_client, port, stop)
                )
                threading.Thread(target=client, daemon=True).start()
            time.sleep(2.0)
            latencies = []
            for _ in range(args.probes):
                latencies.append(probe(port, args.wait))
                time.sleep(0.5)
            stop.set()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    shown = " ".join("-" if t is None else f"{t * 1000:.0f}ms" for t in latencies)
    answered = sum(t is not None for t in latencies)
    print(
        f"{args.worker_class}: {args.workers} workers x {args.threads} threads, "
        f"{args.clients} {'non-readers' if args.readers else 'slow clients'}: "
        f"{answered}/{len(latencies)} probes answered: {shown}"
    )


if __name__ == "__main__":
    main()
