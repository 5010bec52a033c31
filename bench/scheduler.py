"""Scheduler benchmark: a "nothing new" pass over N lists (default 500).

Every list is the same small pipermail archive (`divunal-devel`, 6 volumes) served by ONE local
HTTP server process under its own path (`/l/NAME/`), with ETag / Last-Modified answers so that
an unchanged volume costs a 304.  Two set-ups, each in a fresh data directory:

- `toml`: the lists are declared in the settings file (`[lists.NAME]` tables);
- `cli`: the lists are added to the store the way `lists add` adds them (`app.add_list`).

Each set-up syncs every list once (a full check, like `listarchive sync`), then times one
`scheduler.run_once` pass (what `listarchive scheduler --once` runs: every list's scheduled
job, incremental, in this thread), printing its wall and CPU time, the number of
`Store.lists()` calls, and the HTTP requests per list.

    .venv/bin/python bench/scheduler.py [--lists 500] [--mode toml|cli|both] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import http.server
import json
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from email.utils import formatdate
from pathlib import Path
from typing import Any

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench._common import TWISTED, free_port  # noqa: E402

FOLDER = TWISTED / "divunal-devel"


def serve_forever(folder: Path, port: int) -> None:
    """The archive server (its own process): `/l/NAME/REST` is `folder/REST` for every NAME;
    `/_stats` answers the requests counted per list name since the last `/_reset`."""
    counts: Counter[str] = Counter()
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path == "/_stats":
                self._send(200, json.dumps(counts).encode(), {})
                return
            if path == "/_reset":
                counts.clear()
                self._send(200, b"{}", {})
                return
            parts = path.split("/", 3)  # "", "l", NAME, REST
            if len(parts) < 4 or parts[1] != "l":
                self._send(404, b"not found", {})
                return
            counts[parts[2]] += 1
            content = files.get(parts[3] or "index.html")
            if content is None:
                self._send(404, b"not found", {})
                return
            etag = '"' + hashlib.sha1(content).hexdigest() + '"'
            headers = {
                "ETag": etag,
                "Last-Modified": formatdate(1_600_000_000 + len(content), usegmt=True),
                "Content-Type": "text/html" if parts[3] in ("", "index.html") else "text/plain",
            }
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", headers)
                return
            self._send(200, content, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(FOLDER), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            _get(base + "/_stats")
            break
        except OSError:
            time.sleep(0.05)
    return proc, base


class CallCounter:
    """Counts the calls of `Store.lists` (the cost that grew with the square of the lists)."""

    def __init__(self) -> None:
        from store.records import ListInfo
        from store.store import Store

        self.calls = 0
        self._store = Store
        self._original = Store.lists
        counter = self

        def counted(store: Store) -> list[ListInfo]:
            counter.calls += 1
            return counter._original(store)

        setattr(Store, "lists", counted)  # noqa: B010

    def close(self) -> None:
        setattr(self._store, "lists", self._original)  # noqa: B010


def run(mode: str, count: int, base: str, keep: Path | None, profile: Path | None) -> None:
    from config.settings import load_settings
    from listarchive import app, scheduler, syncing

    data_dir = (keep / mode) if keep else Path(tempfile.mkdtemp(prefix=f"la-bench-{mode}-"))
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    names = [f"list{i:04d}" for i in range(count)]
    config = data_dir / "listarchive.toml"
    text = f'data_dir = "{data_dir}"\nlog_level = "WARNING"\n[sync]\nworkers = 1\n'
    if mode == "toml":
        text += "".join(f'[lists.{n}]\npipermail = "{base}/l/{n}/"\n' for n in names)
    config.write_text(text)
    settings = load_settings(config, env={})

    started = time.perf_counter()
    store = app.open_store(settings)
    try:
        if mode == "cli":
            for name in names:
                app.add_list(store, name, f"{base}/l/{name}/", (), "")
        summaries, indexed, error, _ = syncing.sync(settings, store, [])
    finally:
        store.close()
    assert not error, error
    messages = sum(s.new_messages for s in summaries)
    print(
        f"[{mode}] {count} lists: initial sync {time.perf_counter() - started:.1f} s, "
        f"{messages} new messages, {indexed} indexed"
    )

    _get(base + "/_reset")
    counter = CallCounter()
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        if profiler:
            profiler.enable()
        scheduler.run_once(settings, threading.Event())
        if profiler:
            profiler.disable()
    finally:
        counter.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    per_list = _get(base + "/_stats")
    requests = sorted(per_list.get(n, 0) for n in names)
    print(
        f"[{mode}] nothing-new pass over {count} lists: wall {wall:.1f} s, CPU {cpu:.1f} s, "
        f"{wall / count * 1000:.0f} ms per list; Store.lists() calls {counter.calls} "
        f"({counter.calls / count:.1f} per job); HTTP requests {sum(requests)} "
        f"(per list min {requests[0]}, max {requests[-1]})"
    )
    if profiler and profile:
        target = profile.with_suffix(f".{mode}.prof")
        profiler.dump_stats(target)
        print(f"[{mode}] profile written to {target}; top functions by cumulative time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve_forever(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lists", type=int, default=500, help="number of lists")
    parser.add_argument("--mode", default="both", choices=["toml", "cli", "both"])
    parser.add_argument("--keep", type=Path, help="keep the data directories under this one")
    parser.add_argument("--profile", type=Path, help="cProfile the pass; write FILE.MODE.prof")
    args = parser.parse_args()
    server, base = start_server()
    try:
        for mode in ("toml", "cli") if args.mode == "both" else (args.mode,):
            run(mode, args.lists, base, args.keep, args.profile)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
