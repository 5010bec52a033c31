"""A message or thread page reads only the start of a stored stream (issue 14, review FX 1):
its body is inflated from the blob piece by piece until the shown characters are there, so a
message with a huge attachment is not read (nor held) whole for its page."""

from __future__ import annotations

import base64
import os
import sqlite3
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from store import queries
from store.content import body_text
from store.store import Store
from store.visibility import Visibility
from tests.store.test_store import mbox_sync, write_mbox

BODY = "Grüße, see the attached dump.\n" * 400  # 12,400 characters, 400 shorter lines
EVERYTHING = Visibility(include_private=True)


def _with_attachment(size: int) -> bytes:
    """A message whose text body is BODY and whose attachment is `size` random bytes."""
    data = base64.encodebytes(os.urandom(size)).decode()
    return (
        "From: Someone <someone@example.org>\nTo: list@example.org\nSubject: dump\n"
        "Message-ID: <dump@example.org>\nDate: Mon, 1 Jan 2001 10:00:00 +0000\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"{BODY}\n--b\nContent-Type: application/octet-stream; name=dump.bin\n"
        f"Content-Transfer-Encoding: base64\n\n{data}\n--b--\n"
    ).encode()


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "store.db")
    mbox_sync(opened, "dumps", [write_mbox(tmp_path / "a.mbox", _with_attachment(4 << 20))])
    yield opened
    opened.close()


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the blocks `_details` reads from stored streams."""
    read: list[int] = []
    real = queries._blocks

    def counting(conn: sqlite3.Connection, rowid: int) -> Generator[bytes, None, None]:
        for block in real(conn, rowid):
            read.append(len(block))
            yield block

    monkeypatch.setattr(queries, "_blocks", counting)
    return read


@pytest.mark.parametrize("bound", [1, 500, 5_000])
def test_a_bounded_page_reads_a_bounded_start_of_the_stream(
    store: Store, monkeypatch: pytest.MonkeyPatch, bound: int
) -> None:
    key, stream, body_bytes = store.conn.execute(
        "SELECT key, content, body_bytes FROM messages"
    ).fetchone()
    assert len(stream) > 4 << 20  # the random attachment does not compress
    read = _counted(monkeypatch)
    found = queries.get_message(store.conn, key, EVERYTHING, max_body_chars=bound)
    assert found is not None and found.body == body_text(stream, body_bytes, bound)
    assert found.thread_id is not None
    assert sum(read) <= queries.BODY_BLOCK * 2  # not the 5.6 MB stream
    thread = queries.thread_messages(store.conn, found.thread_id, EVERYTHING, max_body_chars=bound)
    assert [m.body for m in thread] == [found.body]


def test_the_whole_body_reads_only_the_body_part(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, stream, body_bytes = store.conn.execute(
        "SELECT key, content, body_bytes FROM messages"
    ).fetchone()
    read = _counted(monkeypatch)
    found = queries.get_message(store.conn, key, EVERYTHING)
    assert found is not None and found.body == body_text(stream, body_bytes)
    assert 0 < sum(read) <= queries.BODY_BLOCK * 2


def test_no_body_wanted_reads_no_stream(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    key = store.conn.execute("SELECT key FROM messages").fetchone()[0]
    read = _counted(monkeypatch)
    found = queries.get_message(store.conn, key, EVERYTHING, max_body_chars=0)
    assert found is not None and found.body == "" and read == []
