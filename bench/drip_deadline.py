"""How long a volume from a server that drips one byte per interval takes to fail.

Usage: .venv/bin/python -m bench.drip_deadline [DEADLINE_SECONDS] [INTERVAL_SECONDS]
(defaults: sync.request_deadline's default, 600 s; one byte a second).  Prints the seconds
until `HttpFetcher.get` gave up and its error line.  Before the request deadline existed the
fetch only ended when the whole body had arrived (here: 100,000 bytes, over a day).
"""

from __future__ import annotations

import sys
import time

from config.settings import SETTINGS_BY_NAME
from ingest.http import HttpFetcher
from tests.support.hostile_server import Drip, HostileServer


def main() -> None:
    deadline = (
        float(sys.argv[1])
        if len(sys.argv) > 1
        else SETTINGS_BY_NAME["sync.request_deadline"].default
    )
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    server = HostileServer(routes={"/2001-March.txt": Drip(b"x" * 100_000, interval=interval)})
    server.start()
    fetcher = HttpFetcher(request_deadline=deadline)
    try:
        start = time.monotonic()
        result = fetcher.get(server.url("/2001-March.txt"))
        took = time.monotonic() - start
    finally:
        fetcher.close()
        server.stop()
    print(f"deadline {deadline:g} s, one byte per {interval:g} s: failed after {took:.2f} s")
    print(f"  {result.error}  (requests: {result.requests})")


if __name__ == "__main__":
    main()
