"""Bombs benchmark: `listarchive sync` fed hostile volumes over local HTTP, with the default
limits; prints, per case, the peak RSS of the whole process tree (the sync process and its
parser workers, sampled from /proc), the wall time of the bomb list and what became of it,
checks that the next list was synced, and times a second sync (a volume that failed is not
parsed again while unchanged).

Cases (generated into a temporary folder, never committed):
  gzip-1g       a ~2.2 MB .txt.gz expanding to 1 GiB (one message): quarantined (64 MiB limit)
  distinct-1m   1024 distinct messages of 1 MiB each (1 GiB expanded): all stored
  tiny-1g       1 GiB of ~300-byte distinct messages (--tiny-bytes to scale it down): stored
  members-200k  200,000 gzip members of one message each: all stored
  gzip-3g       a ~6.6 MB .txt.gz expanding to 3 GiB: the volume fails (2 GiB limit)
  plain-512m    one 512 MiB message as a plain .txt and again as .txt.gz: both quarantined
  message-512m  one 512 MiB message in a ~1.1 MB .txt.gz: quarantined
  repeated-1g   (with --repeated) 1 GiB of one small message repeated: stored once, duplicates

    .venv/bin/python bench/bombs.py [--case NAME ...] [--workers N] [--repeated]
        [--tiny-bytes N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench._common import RssSampler, serve  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB
FROM_LINE = b"From alice at example.org  Thu May  1 17:51:24 2008\n"


def message(number: int, body: bytes = b"hello\n") -> bytes:
    return (
        FROM_LINE + b"From: alice at example.org (Alice)\n"
        b"Date: Thu, 1 May 2008 17:51:24 +0000\n"
        + f"Subject: message {number}\nMessage-ID: <m{number}@example.org>\n\n".encode()
        + body
        + b"\n"
    )


def _text_lines(total: int) -> Iterator[bytes]:
    block = (b"x" * 1023 + b"\n") * 1024  # 1 MiB of 1 KiB lines
    left = total
    while left > 0:
        piece = block[:left]
        left -= len(piece)
        yield piece


def _repeated(total: int) -> Iterator[bytes]:
    one = message(99, b"the same message again\n")
    block = one * (MIB // len(one))
    left = total
    while left > 0:
        yield block
        left -= len(block)


def write_gzip(path: Path, pieces: Iterator[bytes]) -> int:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        for piece in pieces:
            out.write(compressor.compress(piece))
        out.write(compressor.flush())
    return path.stat().st_size


def one_message(total: int) -> Iterator[bytes]:
    head = message(0, b"")
    yield head
    yield from _text_lines(total - len(head))


def _distinct(count: int, size: int) -> Iterator[bytes]:
    """`count` messages of `size` bytes of `A` lines, each with its own Message-ID."""
    body = (b"A" * 1023 + b"\n") * (size // 1024)
    for number in range(count):
        yield message(1000 + number, body)


def _tiny(total: int) -> Iterator[bytes]:
    """`total` bytes of ~300-byte messages, all distinct."""
    number = 10_000_000
    left = total
    while left > 0:
        block = b"".join(message(number + i, b"y" * 150 + b"\n") for i in range(1000))
        number += 1000
        left -= len(block)
        yield block


def write_plain(path: Path, pieces: Iterator[bytes]) -> int:
    with path.open("wb") as out:
        for piece in pieces:
            out.write(piece)
    return path.stat().st_size


def write_members(path: Path, count: int) -> int:
    """`count` gzip members of one message each, one after another (as `cat a.gz b.gz`)."""
    with path.open("wb") as out:
        for number in range(count):
            out.write(gzip.compress(message(2_000_000 + number), 1))
    return path.stat().st_size


Writer = Callable[[Path], int]
"""Writes one bomb volume (the file name says .txt or .txt.gz); returns its size."""

TINY_BYTES = [GIB]


def _gz(pieces: Callable[[], Iterator[bytes]]) -> Writer:
    return lambda path: write_gzip(path, pieces())


CASES: dict[str, Callable[[], dict[str, Writer]]] = {
    "gzip-1g": lambda: {"2008-April.txt.gz": _gz(lambda: one_message(GIB))},
    "distinct-1m": lambda: {"2008-April.txt.gz": _gz(lambda: _distinct(1024, MIB))},
    "tiny-1g": lambda: {"2008-April.txt.gz": _gz(lambda: _tiny(TINY_BYTES[0]))},
    "members-200k": lambda: {"2008-April.txt.gz": lambda path: write_members(path, 200_000)},
    "gzip-3g": lambda: {"2008-April.txt.gz": _gz(lambda: one_message(3 * GIB))},
    "plain-512m": lambda: {
        "2008-March.txt": lambda path: write_plain(path, one_message(512 * MIB)),
        "2008-April.txt.gz": _gz(lambda: one_message(512 * MIB)),
    },
    "message-512m": lambda: {"2008-April.txt.gz": _gz(lambda: one_message(512 * MIB))},
    "repeated-1g": lambda: {"2008-April.txt.gz": _gz(lambda: _repeated(GIB))},
}


def _site(root: Path, case: str) -> tuple[list[str], int]:
    bomb_list = root / "a-bomb"
    good_list = root / "b-good"
    bomb_list.mkdir(parents=True)
    good_list.mkdir(parents=True)
    volumes = CASES[case]()
    size = sum(write(bomb_list / name) for name, write in volumes.items())
    write_gzip(bomb_list / "2008-May.txt.gz", iter([message(1), message(2)]))
    write_gzip(good_list / "2008-May.txt.gz", iter([message(3), message(4), message(5)]))
    bomb_files = [*volumes, "2008-May.txt.gz"]
    for folder, files in ((bomb_list, bomb_files), (good_list, ["2008-May.txt.gz"])):
        links = " ".join(f'<a href="{f}">{f.split(".")[0]}</a>' for f in files)
        (folder / "index.html").write_text(f"<html><body>{links}</body></html>")
    return list(volumes), size


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*sync a-bomb: (start|done)")


def _bomb_seconds(log: str) -> float | None:
    stamps = {}
    for line in log.splitlines():
        match = _STAMP.match(line)
        if match:
            stamps[match[2]] = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f")
    if len(stamps) < 2:
        return None
    return (stamps["done"] - stamps["start"]).total_seconds()


def _sync(cli: list[str], workers: int) -> tuple[dict[str, object], float, float, str, int]:
    """One `sync --json`: (runs by list, peak RSS MB of the tree, wall s, log, exit)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*cli, "sync", "--json", "--no-prepare", "--workers", str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with RssSampler(proc.pid, interval=0.02) as sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - started
    runs = {r["list_name"]: r for r in json.loads(out)["runs"]} if out else {}
    log = err.decode("utf-8", "replace")
    return runs, round(sampler.peak_kb / 1024, 1), round(wall, 2), log, proc.returncode


def run_case(case: str, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bombs-") as tmp:
        root = Path(tmp)
        made = time.perf_counter()
        bombs, size = _site(root / "site", case)
        made = time.perf_counter() - made
        server, base = serve(root / "site")
        data = root / "data"
        cli = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data)]
        try:
            for name in ("a-bomb", "b-good"):
                subprocess.run(
                    [*cli, "lists", "add", name, "--pipermail", f"{base}/{name}/"],
                    check=True,
                    capture_output=True,
                )
            runs, peak, wall, log, code = _sync(cli, workers)
            again, again_peak, again_wall, _log, _code = _sync(cli, workers)
        finally:
            server.terminate()
            server.wait()
        bomb_run: dict[str, object] = runs.get("a-bomb", {})  # type: ignore[assignment]
        good_run: dict[str, object] = runs.get("b-good", {})  # type: ignore[assignment]
        again_run: dict[str, object] = again.get("a-bomb", {})  # type: ignore[assignment]
        spool_left = sorted(p.name for p in (data / "tmp").rglob("*")) if data.exists() else []
        return {
            "case": case,
            "gz_bytes": size,
            "generated_s": round(made, 1),
            "exit": code,
            "peak_rss_mb": peak,
            "sync_wall_s": wall,
            "bomb_list_s": _bomb_seconds(log),
            "bomb_failures": bomb_run.get("failures"),
            "bomb_quarantined": bomb_run.get("quarantined"),
            "bomb_new": bomb_run.get("new_messages"),
            "bomb_duplicates": bomb_run.get("duplicates"),
            "next_list_new": good_run.get("new_messages"),
            "second_sync_s": again_wall,
            "second_peak_rss_mb": again_peak,
            "second_failures": again_run.get("failures"),
            "spool_left": spool_left,
            "bomb_files": bombs,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeated", action="store_true", help="also the repeated-1g case")
    parser.add_argument("--tiny-bytes", type=int, default=GIB, help="size of the tiny-1g case")
    args = parser.parse_args()
    TINY_BYTES[0] = args.tiny_bytes
    cases = args.case or [c for c in CASES if c != "repeated-1g"]
    if args.repeated and "repeated-1g" not in cases:
        cases.append("repeated-1g")
    for case in cases:
        result = run_case(case, args.workers)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
