"""One large local mbox: build it at bench time from real corpus messages, sync it, then
append one message and sync again; prints msgs/s, wall time and the peak RSS of the whole
process tree (sync process + parser workers) for both syncs.

The mbox is written to a temporary directory (never the repository) from the corpus'
full-header exports (openbmc 2024, usrp-users 2021) and some twisted-python pipermail
months, repeated as often as the size needs; every copy gets its own Message-IDs (with
In-Reply-To and References rewritten the same way, so threads stay threads) and dates
shifted by 30 days a copy, so every message is a distinct one to the store.

    .venv/bin/python bench/bigmbox.py --size 230M [--workers 2] [--keep DIR]
    .venv/bin/python bench/bigmbox.py --size 2G --no-append
    .venv/bin/python bench/bigmbox.py --size 230M --profile /tmp/sync.prof --workers 1  # cProfile
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench._common import CORPUS, TWISTED, RssSampler, _tree_rss_kb  # noqa: E402
from ingest.mboxstream import file_chunks, split_stream, volume_text  # noqa: E402

EXPORTS = (
    CORPUS / "mbox" / "openbmc-2024.mbox.gz",
    CORPUS / "hyperkitty" / "usrp-users-2021-03_to_2021-05.mbox.gz",
)
PIPERMAIL_MONTHS = tuple(
    f"2014-{month}" for month in ("January", "February", "March", "April", "May", "June")
)
"""About 800 short pipermail messages: with the exports, ~14 KB a message, as the real
16k-message, 230 MB list export of issue 14."""

_IDS = re.compile(rb"(?im)^(message-id|in-reply-to|references):(?:.*\n(?:[ \t].*\n)*)")
_MESSAGE_ID = re.compile(rb"(?im)^message-id:(.*)$")
_ANGLE = re.compile(rb"<([^<>\s]+)>")
_DATE = re.compile(rb"(?im)^date:[ \t]*(.*)$")
_ESCAPE = re.compile(rb"(?m)^(>*From )")


def pool() -> list[bytes]:
    """Real messages (header + body, unescaped), in archive order."""
    messages: list[bytes] = []
    files = [*EXPORTS]
    files += [TWISTED / "twisted-python" / f"{month}.txt.gz" for month in PIPERMAIL_MONTHS]
    for path in files:
        text = volume_text(file_chunks(path), str(path), 1 << 62)
        messages.extend(piece.raw for piece in split_stream(text, 1 << 62))
    # the corpus repeats some messages (twisted-python archived months twice): keep one
    seen: set[bytes] = set()
    distinct = []
    for raw in messages:
        found = _MESSAGE_ID.search(raw.partition(b"\n\n")[0])
        ident = found.group(1).strip() if found else raw
        if ident not in seen:
            seen.add(ident)
            distinct.append(raw)
    return distinct


def rewrite(raw: bytes, copy: int, tag: bytes) -> bytes:
    """`raw` as copy number `copy`: ids prefixed `<tag.copy.`, date shifted 30 days a copy."""
    head, sep, body = raw.partition(b"\n\n")
    prefix = b"<" + tag + b"." + str(copy).encode() + b"."

    def ids(match: re.Match[bytes]) -> bytes:
        return _ANGLE.sub(lambda m: prefix + m.group(1) + b">", match.group(0))

    head = _IDS.sub(ids, head + b"\n")[:-1]

    def date(match: re.Match[bytes]) -> bytes:
        try:
            when = email.utils.parsedate_to_datetime(match.group(1).decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            return match.group(0)
        shifted = when + timedelta(days=30 * copy)
        return b"Date: " + email.utils.format_datetime(shifted).encode()

    head = _DATE.sub(date, head, count=1)
    return head + sep + body


def mbox_entry(raw: bytes) -> bytes:
    """One mboxrd entry: From_ line, `>From `-escaped text, blank line."""
    if not raw.endswith(b"\n"):
        raw += b"\n"
    return (
        b"From bench@example.invalid Mon Jan  1 00:00:00 2024\n" + _ESCAPE.sub(rb">\1", raw) + b"\n"
    )


def entries(messages: list[bytes], target: int, tag: bytes) -> Iterator[bytes]:
    size = copy = 0
    while True:
        for raw in messages:
            entry = mbox_entry(rewrite(raw, copy, tag))
            yield entry
            size += len(entry)
            if size >= target:
                return
        copy += 1


def build(path: Path, target: int) -> tuple[int, int]:
    """Write the mbox; returns (messages, bytes)."""
    messages = pool()
    count = size = 0
    with path.open("wb") as handle:
        for entry in entries(messages, target, b"bench"):
            handle.write(entry)
            count += 1
            size += len(entry)
    return count, size


def parse_size(text: str) -> int:
    units = {"K": 10**3, "M": 10**6, "G": 10**9}
    if text[-1:].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


class CpuSampler(RssSampler):
    """Also keeps the sync process's own CPU seconds (its last /proc stat before it ends)."""

    own_cpu = 0.0

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            try:
                with open(f"/proc/{self.pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                self.own_cpu = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))
            time.sleep(self.interval)


@dataclass
class Measured:
    run: dict[str, object]
    wall: float
    peak_kb: int
    cpu: float
    """CPU seconds of the whole tree (user + system)."""
    own_cpu: float
    """CPU seconds of the sync process alone (reading, cutting, storing, indexing)."""


def sync(cli: list[str], workers: int, profile: str = "") -> Measured:
    """One `listarchive sync` (or a cProfile of it), measured."""
    command = [*cli, "sync", "--json", "--no-prepare", "--workers", str(workers)]
    if profile:
        command = [command[0], "-m", "cProfile", "-o", profile, *command[1:]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = CpuSampler(proc.pid, interval=0.02)
    with sampler:
        out, err = proc.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if proc.returncode not in (0, 1):
        sys.exit(f"sync failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    result = json.loads(out)
    run: dict[str, object] = result["runs"][0]
    return Measured(run, wall, sampler.peak_kb, cpu, sampler.own_cpu)


def report(label: str, measured: Measured, messages: int) -> None:
    """Wall time on a shared machine says little: the CPU seconds are printed too, and the
    rate two idle cores would reach (bounded by all CPU / 2 and by the sync process's own)."""
    run, wall, peak_kb = measured.run, measured.wall, measured.peak_kb
    print(f"{label}:")
    print(
        f"  {run['new_messages']} new, {run['duplicates']} duplicates, "
        f"{run['quarantined']} quarantined, {run['volumes_fetched']} volumes fetched"
    )
    print(f"  wall time        {wall:.2f} s")
    print(f"  CPU              {measured.cpu:.1f} s (sync process {measured.own_cpu:.1f} s)")
    if messages:
        bound = max(measured.cpu / 2, measured.own_cpu)
        print(f"  throughput       {messages / wall:,.0f} msgs/s wall")
        print(f"  on 2 idle cores  {messages / bound:,.0f} msgs/s (CPU-bound estimate)")
    print(f"  peak RSS (tree)  {peak_kb / 1024:.0f} MB (sync process + workers)")
    for key in ("bytes_read", "read_mode"):
        if key in run:
            print(f"  {key:<16} {run[key]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="230M", help="mbox size: 230M, 2G, ...")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the data directory and mbox here")
    parser.add_argument("--no-append", action="store_true", help="skip the append-one sync")
    parser.add_argument("--profile", default="", help="cProfile the first sync to this file")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="listarchive-bigmbox-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    mbox = work / "big.mbox"
    data_dir = work / "data"
    cli = [sys.executable, "-m", "listarchive.cli", "--data-dir", str(data_dir)]
    try:
        started = time.perf_counter()
        count, size = build(mbox, parse_size(args.size))
        print(
            f"built {mbox}: {count} messages, {size / 1e6:,.0f} MB in "
            f"{time.perf_counter() - started:.1f} s"
        )
        subprocess.run(
            [*cli, "lists", "add", "big", "--mbox", str(mbox)], check=True, capture_output=True
        )
        workers = args.workers
        report(f"first sync ({workers} workers)", sync(cli, workers, args.profile), count)
        if args.profile:
            print(f"  profile          {args.profile} (the sync process; --workers 1: all)")
        conn = sqlite3.connect(data_dir / "store.db")
        stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        conn.close()
        print(f"  stored           {stored} messages")
        if not args.no_append:
            extra = next(entries(pool()[7:8], 1, b"appended"))
            with mbox.open("ab") as handle:
                handle.write(extra)
            appended = sync(cli, args.workers)
            report(f"after appending one message ({len(extra)} bytes)", appended, 0)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
