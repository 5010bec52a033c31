"""`listarchive serve` in a subprocess on a free loopback port, for the tests that need the
real gunicorn worker (slow clients, slow readers): `serving` starts it, waits until
`/healthz` answers and stops it; `probe` asks `/healthz` once within a bound."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

PROBE_WAIT = 5.0
"""How long one probe waits for an answer (functional, not a performance figure)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def probe(port: int) -> bytes | None:
    """The status line of GET /healthz, or None when not answered within PROBE_WAIT."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_WAIT) as sock:
            sock.settimeout(PROBE_WAIT)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = sock.recv(64)
    except OSError:
        return None
    return answer.split(b"\r\n")[0] if answer else None


@contextmanager
def serving(
    data_dir: Path, workdir: Path, workers: int, settings: Mapping[str, str]
) -> Iterator[int]:
    """Serve `data_dir` with `workers` gunicorn workers and the environment `settings` (e.g.
    LISTARCHIVE_WEB_THREADS); yields the port once /healthz answers (the server's output is
    in `workdir`/serve.log)."""
    port = free_port()
    env = {**os.environ, "LISTARCHIVE_DATA_DIR": str(data_dir), **settings}
    log_path = workdir / "serve.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "listarchive.cli", "serve", "--port", str(port)]
        + ["--workers", str(workers)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while probe(port) is None:
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
