"""The store: schema migrations, WAL, deterministic keys, incremental threading, raw bytes,
list memberships and quarantine, driven through the real sync pipeline."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ingest.http import HttpFetcher
from ingest.sources.mbox import MboxSource
from ingest.sources.pipermail import PipermailSource
from ingest.sync import sync_list
from store import schema
from store.errors import StoreVersionError
from store.store import Store
from tests.support.archive_server import ArchiveServer

TWISTED_WEB = ("twisted", "twisted-web")
# four consecutive months of twisted-web: 355 messages, several replies cross a month boundary
WEB_VOLUMES = ("2004-August", "2004-September", "2004-October", "2004-November")
AUTHOR_PATH = "/pipermail/divunal-author/"

THREAD_COLUMNS = "SELECT key, thread_id, parent_key, depth, thread_pos FROM messages ORDER BY key"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "store.db")
    yield opened
    opened.close()


def mbox_sync(store: Store, list_name: str, paths: Sequence[Path]) -> int:
    """Sync `paths` into `list_name` (created when missing); returns the new message count."""
    if list_name not in {info.name for info in store.lists()}:
        store.add_list(list_name, "mbox", paths=[str(p) for p in paths])
    summary = sync_list(store, list_name, MboxSource([str(p) for p in paths]), workers=1)
    assert summary.clean, summary
    return summary.new_messages


def message(msgid: str, subject: str, body: str, *, refs: str = "", day: int = 1) -> bytes:
    headers = [
        f"From: Someone <someone{day}@example.org>",
        "To: list@example.org",
        f"Subject: {subject}",
        f"Message-ID: <{msgid}>",
        f"Date: Mon, {day} Jan 2001 10:00:00 +0000",
    ]
    if refs:
        headers += [f"In-Reply-To: <{refs}>", f"References: <{refs}>"]
    return ("\n".join(headers) + "\n\n" + body + "\n").encode()


def write_mbox(path: Path, *messages: bytes) -> Path:
    chunks = [
        f"From someone@example.org Mon Jan  {i + 1} 10:00:00 2001\n".encode() + raw + b"\n"
        for i, raw in enumerate(messages)
    ]
    path.write_bytes(b"".join(chunks))
    return path


def rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return store.conn.execute(sql, params).fetchall()


# -- schema ------------------------------------------------------------------------------


def test_fresh_store_has_current_schema_version_and_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = Store(path)
    first.add_list("l", "mbox", paths=["/nowhere.mbox"])
    assert rows(first, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(len(schema.MIGRATIONS)),)
    ]
    tables = rows(first, "SELECT name FROM sqlite_master ORDER BY name")
    first.close()

    again = Store(path)
    try:
        assert schema.current_version(again.conn) == len(schema.MIGRATIONS)
        assert schema.migrate(again.conn) == len(schema.MIGRATIONS)
        assert rows(again, "SELECT name FROM sqlite_master ORDER BY name") == tables
        assert [info.name for info in again.lists()] == ["l"]
    finally:
        again.close()


def test_store_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'",
            (str(len(schema.MIGRATIONS) + 1),),
        )
    conn.close()
    with pytest.raises(StoreVersionError, match=r"newer than this program"):
        Store(path)


def test_wal_mode_is_on(store: Store, tmp_path: Path) -> None:
    assert rows(store, "PRAGMA journal_mode") == [("wal",)]
    other = sqlite3.connect(tmp_path / "store.db")
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


# -- deterministic keys ----------------------------------------------------------------


def test_same_archive_into_two_stores_gives_same_keys_and_threads(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    archive_server.mounts[AUTHOR_PATH] = corpus / "pipermail/twisted/divunal-author"
    archive_server.listings.add(AUTHOR_PATH)
    dumps = []
    for name in ("one", "two"):
        opened = Store(tmp_path / f"{name}.db")
        fetcher = HttpFetcher(timeout=10, retries=0)
        try:
            opened.add_list("divunal-author", "pipermail", url=archive_server.url(AUTHOR_PATH))
            source = PipermailSource(archive_server.url(AUTHOR_PATH), fetcher)
            summary = sync_list(opened, "divunal-author", source, workers=1)
            assert summary.clean, summary
            assert summary.volumes_fetched == 20
            dumps.append(rows(opened, THREAD_COLUMNS))
        finally:
            fetcher.close()
            opened.close()
    # every volume of the archive contributes (the 1999 ones use RFC 2822 dates in From_)
    assert len(dumps[0]) > 100
    assert all(row[1] is not None for row in dumps[0])
    assert dumps[0] == dumps[1]


# -- incremental threading -----------------------------------------------------------------


def test_reverse_volume_order_gives_same_threading(corpus: Path, tmp_path: Path) -> None:
    folder = corpus.joinpath("pipermail", *TWISTED_WEB)
    volumes = [folder / f"{name}.txt.gz" for name in WEB_VOLUMES]
    forward = Store(tmp_path / "forward.db")
    backward = Store(tmp_path / "backward.db")
    try:
        total = mbox_sync(forward, "web", volumes)
        new_backward = [mbox_sync(backward, "web", [volume]) for volume in reversed(volumes)]
        assert total > 300
        assert sum(new_backward) == total
        threaded = rows(forward, THREAD_COLUMNS)
        assert len(threaded) == total
        assert rows(backward, THREAD_COLUMNS) == threaded
        # the case is not trivial: some replies found a parent stored in an earlier volume
        crossing = rows(
            forward,
            "SELECT count(*) FROM messages c JOIN messages p ON p.key = c.parent_key "
            "JOIN memberships mc ON mc.message = c.id JOIN memberships mp ON mp.message = p.id "
            "WHERE mc.origin != mp.origin",
        )
        assert crossing[0][0] > 0
        assert rows(backward, "SELECT * FROM threads ORDER BY thread_id") == rows(
            forward, "SELECT * FROM threads ORDER BY thread_id"
        )
    finally:
        forward.close()
        backward.close()


def test_late_parent_relinks_reply_and_orphan_siblings(store: Store, tmp_path: Path) -> None:
    replies = write_mbox(
        tmp_path / "replies.mbox",
        message("b@example.org", "Re: plan", "I agree.", refs="a@example.org", day=2),
        message("c@example.org", "Re: plan", "I do not.", refs="a@example.org", day=3),
    )
    root = write_mbox(tmp_path / "root.mbox", message("a@example.org", "plan", "Shall we?"))

    assert mbox_sync(store, "l", [replies]) == 2
    before = {
        r[0]: r[1:]
        for r in rows(store, "SELECT message_id_norm, thread_id, parent_key, depth FROM messages")
    }
    # orphans with a common missing parent already share one thread
    assert before["b@example.org"][0] == before["c@example.org"][0]
    assert before["b@example.org"][1] is None

    assert mbox_sync(store, "l", [root]) == 1
    after = {
        r[0]: r[1:]
        for r in rows(
            store, "SELECT message_id_norm, thread_id, parent_key, depth, key FROM messages"
        )
    }
    root_thread, root_parent, root_depth, root_key = after["a@example.org"]
    assert (root_parent, root_depth) == (None, 0)
    for reply in ("b@example.org", "c@example.org"):
        thread_id, parent_key, depth, _key = after[reply]
        assert (thread_id, parent_key, depth) == (root_thread, root_key, 1)
    # the thread id is the one the orphans already had (it derives from the root's id)
    assert root_thread == before["b@example.org"][0]
    assert rows(store, "SELECT thread_id, root_key, message_count FROM threads") == [
        (root_thread, root_key, 3)
    ]


# -- raw bytes, memberships, quarantine ----------------------------------------------------


def test_raw_bytes_are_compressed_and_returned_exactly(store: Store, tmp_path: Path) -> None:
    body = "\n".join(f"line {i}: the same words again and again" for i in range(200))
    originals = [
        message("r1@example.org", "first", body),
        message("r2@example.org", "second", body.upper(), day=2),
    ]
    assert mbox_sync(store, "l", [write_mbox(tmp_path / "raw.mbox", *originals)]) == 2
    for original in originals:
        msgid = original.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
        ((key, stored, size, digest),) = rows(
            store,
            "SELECT key, content, raw_size, raw_sha256 FROM messages WHERE message_id_norm = ?",
            (msgid,),
        )
        assert store.raw_bytes(key) == original
        assert size == len(original)
        assert digest == hashlib.sha256(original).hexdigest()
        assert len(stored) < len(original) // 4  # the body and the raw bytes, compressed
        assert zlib.decompress(stored).endswith(original)
    assert store.raw_bytes("no-such-key") is None


def test_same_message_on_two_lists_is_stored_once(corpus: Path, store: Store) -> None:
    volume = corpus / "pipermail/twisted/divunal-author/2003-May.txt.gz"
    first = mbox_sync(store, "alpha", [volume])
    assert first > 0
    assert mbox_sync(store, "beta", [volume]) == 0
    assert store.message_count() == first
    assert rows(store, "SELECT count(*) FROM memberships") == [(2 * first,)]
    per_message = rows(store, "SELECT count(*) FROM memberships GROUP BY message")
    assert {count for (count,) in per_message} == {2}
    assert {(info.name, info.messages) for info in store.lists()} == {
        ("alpha", first),
        ("beta", first),
    }
    key = rows(store, "SELECT key FROM messages LIMIT 1")[0][0]
    stored = store.get_message(key)
    assert stored is not None
    assert sorted(stored.lists) == ["alpha", "beta"]


def test_quarantine_keeps_reason_and_raw_bytes(store: Store, tmp_path: Path) -> None:
    garbage = b"\x00\x00\x00 garbage that is no message\n"
    box = tmp_path / "mixed.mbox"
    box.write_bytes(
        b"From b@example.org Mon Jan  1 00:00:01 2001\n"
        + garbage
        + b"\n"
        + b"From a@example.org Mon Jan  1 00:00:00 2001\n"
        + message("good@example.org", "good one", "hello")
    )
    store.add_list("l", "mbox", paths=[str(box)])
    summary = sync_list(store, "l", MboxSource([str(box)]), workers=1)
    assert (summary.new_messages, summary.quarantined) == (1, 1)
    assert store.quarantine_count() == 1
    ((origin, position, reason, raw, digest, listed),) = rows(
        store,
        "SELECT q.origin, q.position, q.reason, q.raw, q.raw_sha256, l.name "
        "FROM quarantine q JOIN lists l ON l.id = q.list",
    )
    assert (origin, position, listed) == ("mixed.mbox", 0, "l")
    assert reason.strip()
    assert garbage in raw
    assert digest == hashlib.sha256(raw).hexdigest()
    # the same bad bytes met again on the list (another export) are not quarantined twice
    copy = tmp_path / "mixed-copy.mbox"
    copy.write_bytes(box.read_bytes())
    again = sync_list(store, "l", MboxSource([str(copy)]), workers=1)
    assert (again.new_messages, again.duplicates, again.quarantined) == (0, 1, 0)
    assert store.quarantine_count() == 1


def test_writers_overwrite_deleted_content(tmp_path: Path) -> None:
    """Removed and purged messages must not linger in free pages, whatever SQLite's build
    default (Debian's is on, others' off)."""
    store = Store(tmp_path / "store.db")
    try:
        assert store.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    finally:
        store.close()
