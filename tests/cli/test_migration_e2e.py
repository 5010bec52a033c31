"""The reference case end to end: an old Mailman 2 list (pipermail) and the new Mailman 3 list
(HyperKitty) of one forum, run in parallel, synced by the scheduler as one community."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import compat32
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from tests.support.archive_server import ArchiveServer
from tests.support.hyperkitty_server import HyperKittyServer, read_mbox

ADDRESS = "usrp-users@lists.ettus.com"
OLD = "/pipermail/usrp-users_lists.ettus.com/"  # a hosted Mailman 2 name: <list>_<domain>


def pipermail_copy(raw: bytes) -> bytes:
    """The message as Mailman 2's pipermail archives it: obfuscated addresses, few headers."""
    msg = message_from_bytes(raw, policy=compat32)
    sender = str(msg["From"])
    name, _, address = sender.rpartition("<")
    address = address.rstrip(">").strip() or sender.strip()
    date = parsedate_to_datetime(str(msg["Date"])).astimezone(UTC)
    lines = [
        f"From {address.replace('@', ' at ')}  {date:%a %b %d %H:%M:%S %Y}",
        f"From: {address.replace('@', ' at ')} ({name.strip().strip(chr(34))})",
        f"Date: {msg['Date']}",
        f"Subject: {msg['Subject']}",
    ]
    for header in ("In-Reply-To", "References", "Message-ID"):
        if msg[header]:
            lines.append(f"{header}: {' '.join(str(msg[header]).split())}")
    # pipermail keeps the text parts (the list footer is one of them) and scrubs the rest
    texts = [
        part.get_payload(decode=True) or b""
        for part in msg.walk()
        if part.get_content_type() == "text/plain" and not part.get_filename()
    ]
    scrubbed = [
        "-------------- next part --------------\n"
        f"An {'HTML' if part.get_content_subtype() == 'html' else 'non-text'} attachment "
        "was scrubbed...\nURL: http://lists.ettus.com/pipermail/attachments/x.bin\n"
        for part in msg.walk()
        if not part.is_multipart()
        and (part.get_content_type() != "text/plain" or part.get_filename())
    ]
    body = b"\n".join(t if isinstance(t, bytes) else b"" for t in texts)
    body += "".join(scrubbed).encode()
    # pipermail keeps the body's bytes (dropping the charset) and obfuscates addresses
    text = body.replace(b"@", b" at ").rstrip(b"\n")
    return ("\n".join(lines) + "\n\n").encode() + text + b"\n\n"


@pytest.fixture()
def hyperkitty(corpus: Path) -> Iterator[HyperKittyServer]:
    server = HyperKittyServer(address=ADDRESS)
    server.load(corpus / "hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz")
    server.start()
    yield server
    server.stop()


def test_old_and_new_list_as_one_community(
    archive_server: ArchiveServer, hyperkitty: HyperKittyServer, corpus: Path, tmp_path: Path
) -> None:
    # the old list: the same forum's March 2021 posts (the Mailman 2.1 era), as pipermail wrote them
    march = [
        raw
        for raw in read_mbox(corpus / "hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz")
        if b"X-Mailman-Version: 2.1" in raw
    ]
    assert len(march) > 20
    site = tmp_path / "site"
    site.mkdir()
    volume = site / "2021-March.txt.gz"
    volume.write_bytes(gzip.compress(b"".join(pipermail_copy(raw) for raw in march)))
    archive_server.mounts[OLD] = site
    archive_server.listings.add(OLD)

    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]

    def ok(*args: str) -> str:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    ok("lists", "add", "usrp-old", "--pipermail", archive_server.url(OLD))
    ok("lists", "add", "usrp-new", "--hyperkitty", hyperkitty.base_url, "--address", ADDRESS)
    ok("lists", "add", "broken", "--pipermail", archive_server.url("/pipermail/broken/"))
    archive_server.faults["/pipermail/broken/"] = "500"
    ok("communities", "add", "usrp", "--lists", "usrp-old,usrp-new", "--cutover", "2021-03-20")

    ok("scheduler", "--once")
    conn = sqlite3.connect(data / "store.db")
    stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    both = conn.execute(
        "SELECT count(*) FROM (SELECT message FROM memberships GROUP BY message "
        "HAVING count(*) = 2)"
    ).fetchone()[0]
    distinct_march = len({message_from_bytes(r, policy=compat32)["Message-ID"] for r in march})
    # every post of the parallel period is on both lists and stored once
    assert stored == 719
    assert both == distinct_march
    # a thread can span both lists
    spanning = conn.execute(
        "SELECT count(DISTINCT m.thread_id) FROM messages m "
        "JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list GROUP BY m.thread_id HAVING count(DISTINCT l.name) = 2"
    ).fetchall()
    assert len(spanning) > 5

    runs = json.loads(ok("runs", "--json"))
    status = {r["list"]: r["status"] for r in runs["runs"]}
    assert status == {"usrp-old": "ok", "usrp-new": "ok", "broken": "error"}

    total = json.loads(ok("search", "--community", "usrp", "after:2021-01-01", "--json"))["total"]
    assert total == 719

    # a new post in the old list's current volume: the next scheduled run needs two requests
    new_post = (
        b"From jane at example.org  Wed Mar 31 12:00:00 2021\n"
        b"From: jane at example.org (Jane Doe)\nDate: Wed, 31 Mar 2021 12:00:00 +0000\n"
        b"Subject: [USRP-users] still posting to the old list\n"
        b"Message-ID: <late-post@example.org>\n\nIs anyone still reading this list?\n\n"
    )
    volume.write_bytes(gzip.compress(gzip.decompress(volume.read_bytes()) + new_post))
    # and a new post on the new list, this month
    now = datetime.now(UTC)
    hyperkitty.add_message(
        f"From: Ann Lee <ann@example.org>\nTo: {ADDRESS}\nSubject: [USRP-users] hello\n"
        f"Date: {format_datetime(now)}\nMessage-ID: <new-list-post@example.org>\n\nHi\n".encode()
    )
    archive_server.requests.clear()
    hyperkitty.requests.clear()
    ok("scheduler", "--once")
    # HyperKitty: the current and the previous month's export, no month list needed
    assert sum(hyperkitty.requests.values()) == 2, dict(hyperkitty.requests)
    assert any(f"-{now:%Y-%m}.mbox.gz" in path for path in hyperkitty.requests)
    old_requests = {p: n for p, n in archive_server.requests.items() if p.startswith(OLD)}
    # the index page, the plain .txt (absent: 404) then the .txt.gz would be 3; the volume's URL
    # is remembered, so: index + the current volume
    assert sum(old_requests.values()) == 2, old_requests
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 721
