"""Builds the mbox files and the synthetic organisation data of `bench/scale.py`.

A pool of real corpus messages (twisted-python, twisted-web, the small twisted lists,
r-project, openbmc, usrp-users), one copy per message-id, is written as often as the size
needs.  Copy k is "project" k with three lists, `pNN-python`, `pNN-web` and `pNN-misc`;
every copy gets its own Message-IDs (In-Reply-To and References rewritten the same way, so
threads stay threads, see `bench/bigmbox.py`), dates moved 45 days earlier a copy, and
sender addresses of their own every three copies (`user.gN`), so a million messages come
from ~8x the real senders, with their real names.  Project 0's python list is a community
with a cutover: messages before 2012 on `p00-python` (old), from 2013 on `p00-python-ng`
(new), 2012 alternately on both; the old list closed 2013-01-01.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from bench._common import CORPUS, TWISTED
from bench.bigmbox import mbox_entry, rewrite
from bench.organisation import busiest, cli, import_rosters, posters
from ingest.mboxstream import file_chunks, split_stream, volume_text

logger = logging.getLogger(__name__)

COMMUNITY = "p00"
OLD, NEW = "p00-python", "p00-python-ng"
CUTOVER, CLOSED = "2012-01-01", "2013-01-01"
FACILITATOR, SECRETARIAT = "scale-facilitator", "scale-secretariat"
_MESSAGE_ID = re.compile(rb"(?im)^message-id:(.*)$")
_DATE = re.compile(rb"(?im)^date:[ \t]*(.*)$")
_SENDER = re.compile(rb"(?im)^(from:[^\n]*?)([A-Za-z0-9._%+-]+)( at |@)")


def _sources() -> dict[str, list[Path]]:
    flat = [
        path
        for name in ("divunal-author", "divunal-devel", "divunal-list", "reality")
        for path in sorted((TWISTED / name).glob("*.txt.gz"))
    ]
    for name in ("r-announce", "r-sig-finance"):
        flat += sorted((CORPUS / "pipermail" / "r-project" / name).glob("*.txt.gz"))
    flat += [
        CORPUS / "mbox" / "openbmc-2024.mbox.gz",
        CORPUS / "hyperkitty" / "usrp-users-2021-03_to_2021-05.mbox.gz",
    ]
    return {
        "python": sorted((TWISTED / "twisted-python").glob("*.txt.gz")),
        "web": sorted((TWISTED / "twisted-web").glob("*.txt.gz")),
        "misc": flat,
    }


def pool() -> dict[str, list[bytes]]:
    """Real messages per pool list (header + body, unescaped), one per Message-ID."""
    seen: set[bytes] = set()
    pools: dict[str, list[bytes]] = {}
    for name, files in _sources().items():
        kept = pools.setdefault(name, [])
        for path in files:
            text = volume_text(file_chunks(path), str(path), 1 << 62)
            for piece in split_stream(text, 1 << 62):
                found = _MESSAGE_ID.search(piece.raw.partition(b"\n\n")[0])
                ident = found.group(1).strip() if found else piece.raw
                if ident not in seen:
                    seen.add(ident)
                    kept.append(piece.raw)
    return pools


def _year(raw: bytes) -> int:
    found = _DATE.search(raw.partition(b"\n\n")[0])
    if not found:
        return 0
    try:
        return email.utils.parsedate_to_datetime(found.group(1).decode("latin-1")).year
    except (TypeError, ValueError, IndexError):
        return 0


def variant(raw: bytes, copy: int) -> bytes:
    """Copy `copy` of a pool message: own ids, earlier date, own senders every 3 copies."""
    moved = raw
    if copy:  # ids prefixed by bigmbox.rewrite (its own date shift is 0 for copy 0)
        moved = _shift(rewrite(raw, 0, f"scale{copy}".encode()), timedelta(days=-45 * copy))
    group = copy // 3
    if group:
        head, sep, body = moved.partition(b"\n\n")
        head = _SENDER.sub(lambda m: m[1] + m[2] + b".g%d" % group + m[3], head, count=1)
        moved = head + sep + body
    return moved


def _shift(raw: bytes, delta: timedelta) -> bytes:
    head, sep, body = raw.partition(b"\n\n")

    def date(match: re.Match[bytes]) -> bytes:
        try:
            when = email.utils.parsedate_to_datetime(match.group(1).decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            return match.group(0)
        return b"Date: " + email.utils.format_datetime(when + delta).encode()

    return _DATE.sub(date, head, count=1) + sep + body


def plan(pools: dict[str, list[bytes]], total: int) -> Iterator[tuple[str, bytes]]:
    """(list name, message) pairs, copy after copy, until `total` messages."""
    count = copy = 0
    while True:
        for name, messages in pools.items():
            for index, raw in enumerate(messages):
                list_name = f"p{copy:02d}-{name}"
                if list_name == OLD:
                    year = _year(raw)
                    if year >= 2013 or (year == 2012 and index % 2):
                        list_name = NEW
                yield list_name, variant(raw, copy)
                count += 1
                if count >= total:
                    return
        copy += 1


def write_mboxes(folder: Path, total: int) -> dict[str, Path]:
    """Writes one mbox per list under `folder`; returns {list name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    pools = pool()
    logger.info("pool: %s", {name: len(msgs) for name, msgs in pools.items()})
    handles = {}
    paths: dict[str, Path] = {}
    try:
        for name, raw in plan(pools, total):
            if name not in handles:
                paths[name] = folder / f"{name}.mbox"
                handles[name] = paths[name].open("wb")
            handles[name].write(mbox_entry(raw))
    finally:
        for handle in handles.values():
            handle.close()
    return paths


def organisation(data_dir: Path) -> dict[str, str]:
    """The community with its cutover, rosters, a meeting and two web accounts (as
    `bench/analytics.py` makes them for twisted); returns the names the dashboards use."""
    cli(data_dir, "communities", "add", COMMUNITY, "--lists", f"{OLD},{NEW}", "--old", OLD,
        "--new", NEW, "--cutover", CUTOVER, "--closed", CLOSED)  # fmt: skip
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        rosters = [
            (OLD, posters(conn, OLD, 2011), CUTOVER),
            (NEW, posters(conn, NEW, 2012), CLOSED),
        ]
        most = busiest(conn)
    finally:
        conn.close()
    import_rosters(data_dir, rosters)
    names = [name for _key, name in most] + ["Ada Example", "Grace Sample"]
    meeting = data_dir / "sprint.txt"
    meeting.write_text("Participants\n\n" + "\n".join(names) + "\n")
    cli(data_dir, "meetings", "import", "sprint", str(meeting), "--tag", "volunteer: sprint")
    from tests.support.webauth import create_account

    create_account(data_dir, "facilitator", FACILITATOR)
    create_account(data_dir, "secretariat", SECRETARIAT)
    found = {"top": most[0][0], "community": COMMUNITY, "roster": OLD}
    (data_dir / "scale-names.json").write_text(json.dumps(found))
    return found
