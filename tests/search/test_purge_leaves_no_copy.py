"""A purge keeps the purged body in `superseded_bodies` until the index forgets the document
(`store.superseded`); once it has, the body is gone from the store's file too, not only from
the write-ahead log, while the process that purged (the web UI's) keeps the store open: the
purge's promise (`store.removals`: secure_delete and a checkpoint)."""

from __future__ import annotations

import zlib
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli
from search import indexer
from search.sqlite_fts import SqliteFtsBackend
from store import removals, superseded
from store.store import Store

SECRET = "a confidential sentence about the merger, said only once in this archive"


def _body(n: int) -> str:
    return f"{SECRET if n == 1 else 'plain'} {n}"


def _mbox(path: Path) -> None:
    path.write_bytes(
        b"".join(
            b"From x@example.org Mon Jan  1 00:00:00 2001\n"
            + f"From: p{n}@example.org\nMessage-ID: <m{n}@example.org>\nSubject: topic {n}\n"
            f"Date: Mon, 1 Jan 2001 00:0{n}:00 +0000\n\n{_body(n)}\n\n".encode()
            for n in range(3)
        )
    )


def test_a_purged_body_leaves_the_store_file_once_the_index_forgot_it(
    tmp_path: Path, data_dir: Path
) -> None:
    box = tmp_path / "a.mbox"
    _mbox(box)
    for args in (["lists", "add", "a", "--mbox", str(box)], ["sync", "--workers", "1"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
    store = Store(data_dir / "store.db")
    backend = SqliteFtsBackend(data_dir / "search-fts.db")
    try:
        (key,) = removals.keys_for_message_id(store.conn, "m1@example.org")
        message = store.get_message(key)
        assert message is not None and SECRET in message.body
        kept = zlib.compress(message.body.encode("utf-8", "surrogatepass"), 1)
        removals.remove(store.conn, "message", key, [key], reason="r", actor="t", purge=True)
        assert kept in (data_dir / "store.db").read_bytes()  # for the index, until it forgets
        assert indexer.refresh(store, backend, [key]) == 1
        assert superseded.count(store.conn) == 0
        # the store is still open (as the web UI's): its file holds no copy any more
        assert kept not in (data_dir / "store.db").read_bytes()
    finally:
        backend.close()
        store.close()
