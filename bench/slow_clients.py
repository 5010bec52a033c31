"""Slow-client benchmark (issue 11): latency of GET /healthz while N clients send their
requests one byte a second (slowloris), under a given gunicorn worker class.

gunicorn runs on 127.0.0.1 with the web UI over an empty store; each probe waits at most
--wait seconds (`-` in the output: not answered).  Compare the old configuration (`sync`,
`gthread`) with the one listarchive deploys (`webui.worker.BufferingThreadWorker`):

.venv/bin/python bench/slow_clients.py --worker-class sync --clients 4
.venv/bin/python bench/slow_clients.py --worker-class webui.worker.BufferingThreadWorker \
    --clients 200
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
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._common import REPO, free_port  # noqa: E402
from store.store import Store  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker-class", default="webui.worker.BufferingThreadWorker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--probes", type=int, default=8)
    parser.add_argument("--wait", type=float, default=5.0)
    args = parser.parse_args()
    if args.worker_class == "sync":
        args.threads = 1  # gunicorn turns sync with threads into gthread
    with tempfile.TemporaryDirectory() as tmp:
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
                threading.Thread(target=slow_client, args=(port, stop), daemon=True).start()
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
        f"{args.clients} slow clients: {answered}/{len(latencies)} probes answered: {shown}"
    )


if __name__ == "__main__":
    main()
