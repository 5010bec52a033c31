"""Huge body benchmark (issue 11): server time of the message page, its JSON twin and the
thread page of a message whose stored body is 128 MiB (one stored before the message size
limit existed), and of streaming its source.

The store is made by syncing a two-message thread and then writing the huge body and raw
bytes into the first message directly (a sync today quarantines a message that big).
Requests go through Flask's test client in this process (application time, no network).

.venv/bin/python bench/huge_body.py [--mib 128] [--dir /tmp/la-huge]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

# run as a script: make the repository root importable instead of bench/ itself
sys.path[0] = str(Path(__file__).resolve().parents[1])

from config.settings import load_settings  # noqa: E402
from ingest.sources.mbox import MboxSource  # noqa: E402
from ingest.sync import sync_list  # noqa: E402
from store import content  # noqa: E402
from store.store import Store  # noqa: E402
from webui import create_app  # noqa: E402

LINE = "> a quoted line of the huge message, with someone@example.org in it -- and more\n"
MAILS = (
    "From big@example.org Mon Mar  2 10:00:00 2020\nMessage-ID: <big@mid.example>\n"
    "From: Big Sender <big@example.org>\nTo: big-list@example.org\n"
    "Subject: A very long message\nDate: Mon, 02 Mar 2020 10:00:00 +0000\n\nplaceholder\n\n"
    "From small@example.org Tue Mar  3 10:00:00 2020\nMessage-ID: <small@mid.example>\n"
    "From: Small Sender <small@example.org>\nTo: big-list@example.org\n"
    "Subject: Re: A very long message\nIn-Reply-To: <big@mid.example>\n"
    "Date: Tue, 03 Mar 2020 10:00:00 +0000\n\nShort answer.\n\n"
)


def build(folder: Path, mib: int) -> None:
    path = folder / "big.mbox"
    path.write_text(MAILS)
    store = Store(folder / "data" / "store.db")
    try:
        store.add_list("big-list", "mbox", paths=[str(path)])
        sync_list(store, "big-list", MboxSource([str(path)]), workers=1)
        key = store.conn.execute("SELECT key FROM messages ORDER BY date LIMIT 1").fetchone()[0]
        body = LINE * (mib * 1024 * 1024 // len(LINE))
        head = MAILS.split("placeholder")[0].split("\n", 1)[1]
        raw = (head + body).encode()
        stream, body_bytes, body_chars = content.pack(body, raw)
        store.conn.execute(
            "UPDATE messages SET content = ?, body_bytes = ?, body_chars = ?, raw_size = ? "
            "WHERE key = ?",
            (stream, body_bytes, body_chars, len(raw), key),
        )
    finally:
        store.close()


def first_message(folder: Path) -> tuple[str, str]:
    conn = sqlite3.connect(folder / "data" / "store.db")
    try:
        key, thread_id = conn.execute(
            "SELECT key, thread_id FROM messages ORDER BY date LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return str(key), str(thread_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="la-huge-"))
    folder.mkdir(parents=True, exist_ok=True)
    # built in a child process, so the peak RSS below is the web side's alone
    child = multiprocessing.get_context("fork").Process(target=build, args=(folder, args.mib))
    child.start()
    child.join()
    key, thread_id = first_message(folder)
    app = create_app(load_settings(env={}, overrides={"data_dir": folder / "data"}))
    client = app.test_client()
    for label, url in (
        ("message page", f"/messages/{key}"),
        ("message JSON", f"/messages/{key}.json"),
        ("thread page", f"/threads/{thread_id}"),
        ("source (streamed)", f"/messages/{key}/source"),
    ):
        start = time.perf_counter()
        response = client.get(url)
        size = len(response.get_data())
        took = time.perf_counter() - start
        sys.stdout.write(f"{label:18} {response.status_code} {took:8.2f} s {size:>12,} bytes\n")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(f"peak RSS {peak:.0f} MiB ({args.mib} MiB body, store in {folder})\n")


if __name__ == "__main__":
    main()
