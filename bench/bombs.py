"""Bombs benchmark: `listarchive sync` fed hostile volumes over local HTTP, with the default
limits; prints, per case, the peak RSS of the whole process tree (the sync process and its
parser workers, sampled from /proc), the wall time of the bomb list and what became of it,
and checks that the next list was synced.

Cases (generated into a temporary folder, never committed):
  gzip-1g     a ~2.2 MB .txt.gz expanding to 1 GiB (one message): quarantined (64 MiB limit)
  message-512m  one 512 MiB message in a ~1.1 MB .txt.gz: quarantined
  gzip-3g     a ~6.6 MB .txt.gz expanding to 3 GiB: the volume fails (2 GiB limit)
  repeated-1g (with --repeated) 1 GiB of one small message repeated: stored once, duplicates

    .venv/bin/python bench/bombs.py [--case NAME ...] [--workers N] [--repeated]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
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


CASES = {
    "gzip-1g": lambda: one_message(GIB),
    "message-512m": lambda: one_message(512 * MIB),
    "gzip-3g": lambda: one_message(3 * GIB),
    "repeated-1g": lambda: _repeated(GIB),
}


def _site(root: Path, case: str) -> tuple[Path, int]:
    bomb_list = root / "a-bomb"
    good_list = root / "b-good"
    bomb_list.mkdir(parents=True)
    good_list.mkdir(parents=True)
    size = write_gzip(bomb_list / "2008-April.txt.gz", CASES[case]())
    write_gzip(bomb_list / "2008-May.txt.gz", iter([message(1), message(2)]))
    write_gzip(good_list / "2008-May.txt.gz", iter([message(3), message(4), message(5)]))
    for folder, periods in ((bomb_list, ("2008-April", "2008-May")), (good_list, ("2008-May",))):
        links = " ".join(f'<a href="{p}.txt.gz">{p}</a>' for p in periods)
        (folder / "index.html").write_text(f"<html><body>{links}</body></html>")
    return bomb_list / "2008-April.txt.gz", size


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


def run_case(case: str, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bombs-") as tmp:
        root = Path(tmp)
        made = time.perf_counter()
        bomb, size = _site(root / "site", case)
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
            started = time.perf_counter()
            proc = subprocess.Popen(
                [*cli, "sync", "--json", "--workers", str(workers)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            with RssSampler(proc.pid, interval=0.02) as sampler:
                out, err = proc.communicate()
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait()
        runs = {r["list_name"]: r for r in json.loads(out)["runs"]} if out else {}
        bomb_run = runs.get("a-bomb", {})
        return {
            "case": case,
            "gz_bytes": size,
            "generated_s": round(made, 1),
            "exit": proc.returncode,
            "peak_rss_mb": round(sampler.peak_kb / 1024, 1),
            "sync_wall_s": round(wall, 2),
            "bomb_list_s": _bomb_seconds(err.decode("utf-8", "replace")),
            "bomb_failures": bomb_run.get("failures"),
            "bomb_quarantined": bomb_run.get("quarantined"),
            "bomb_new": bomb_run.get("new_messages"),
            "bomb_duplicates": bomb_run.get("duplicates"),
            "next_list_new": runs.get("b-good", {}).get("new_messages"),
            "bomb_file": bomb.name,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeated", action="store_true", help="also the repeated-1g case")
    args = parser.parse_args()
    cases = args.case or ["gzip-1g", "message-512m", "gzip-3g"]
    if args.repeated and "repeated-1g" not in cases:
        cases.append("repeated-1g")
    for case in cases:
        result = run_case(case, args.workers)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
