"""A message's body and raw bytes are one compressed stream (issue 14, store size): what is
read back is exactly what was stored, a bounded read stops at whole characters, and a store
made before (body as text, raw bytes compressed alone) is converted by migration 15."""

from __future__ import annotations

import random
import sqlite3
import zlib
from pathlib import Path

import pytest

from store.content import EMPTY, body_text, pack, raw_bytes, raw_pieces
from store.schema import MIGRATIONS, migrate
from store.store import Store

BODY = "Grüße — naïve café 🎉 reactor\n> quoted\n"
RAW = b"Subject: hi\nContent-Type: text/plain; charset=utf-8\n\n" + BODY.encode() + b"\xff\x00"


def test_the_stream_gives_back_the_body_and_the_raw_bytes() -> None:
    stream, body_bytes, body_chars = pack(BODY, RAW)
    assert (body_bytes, body_chars) == (len(BODY.encode()), len(BODY))
    assert body_text(stream, body_bytes) == BODY
    assert raw_bytes(stream, body_bytes) == RAW
    pieces = list(raw_pieces((stream[i : i + 7] for i in range(0, len(stream), 7)), body_bytes, 5))
    assert b"".join(pieces) == RAW and max(len(p) for p in pieces) <= 5
    assert body_text(*EMPTY[:2]) == "" and raw_bytes(*EMPTY[:2]) == b""


@pytest.mark.parametrize("bound", range(0, len(BODY) + 3))
def test_a_bounded_read_is_the_first_characters(bound: int) -> None:
    stream, body_bytes, _ = pack(BODY, RAW)
    assert body_text(stream, body_bytes, bound) == BODY[:bound]


def test_a_bounded_read_inflates_only_what_it_needs() -> None:
    # not one repeated character: deflate (ISA-L's above all) packs that into a few bytes
    body = "".join(random.Random(14).choices("éàüß€abc \n", k=1_000_000))
    stream, body_bytes, _ = pack(body, b"x" * 10)
    head = stream[:200]  # enough for the first few hundred bytes, not for the whole body
    assert body_text(head, body_bytes, 10) == body[:10]
    try:  # the whole body from it: cut short (or cut inside a character)
        whole = body_text(head, body_bytes)
    except UnicodeDecodeError:
        whole = ""
    assert len(whole) < len(body)


def test_a_damaged_body_raises() -> None:
    damaged = b"findme\xc3("
    with pytest.raises(UnicodeDecodeError):
        body_text(zlib.compress(damaged), len(damaged))


def _old_store(path: Path) -> sqlite3.Connection:
    """A store at schema 14: `body` as text, `raw` zlib of the raw bytes alone."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:14]:
        conn.executescript("BEGIN;" + script + ";COMMIT;")
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '14')")
    needed = [
        (row[1], row[2])
        for row in conn.execute("PRAGMA table_info(messages)")
        if row[3] and row[4] is None and row[1] != "id"
    ]
    for key, body, raw in (("k1", BODY, RAW), ("k2", "", b"Subject: empty\n\n"), ("k3", "", b"")):
        values: dict[str, object] = {name: 0 if kind == "INTEGER" else "" for name, kind in needed}
        values.update(key=key, body=body, raw=zlib.compress(raw, 1), raw_size=len(raw))
        values.update(dict.fromkeys(("to_json", "cc_json", "in_reply_to", "refs"), "[]"))
        values.update(attachments="[]", flags="[]", message_id_norm=f"{key}@example.org")
        conn.execute(
            f"INSERT INTO messages ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
    conn.commit()
    return conn


def test_migration_15_converts_a_store_made_before(tmp_path: Path) -> None:
    conn = _old_store(tmp_path / "store.db")
    assert migrate(conn) == len(MIGRATIONS)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    assert {"content", "body_bytes", "body_chars"} <= columns
    assert not {"body", "raw"} & columns
    rows = conn.execute(
        "SELECT key, content, body_bytes, body_chars FROM messages ORDER BY key"
    ).fetchall()
    got = {k: (body_text(s, n), raw_bytes(s, n), c) for k, s, n, c in rows}
    assert got == {
        "k1": (BODY, RAW, len(BODY)),
        "k2": ("", b"Subject: empty\n\n", 0),
        "k3": ("", b"", 0),
    }
    assert migrate(conn) == len(MIGRATIONS)  # once only: a second open changes nothing
    again = conn.execute(
        "SELECT key, content, body_bytes, body_chars FROM messages ORDER BY key"
    ).fetchall()
    assert again == rows
    conn.close()


def test_a_reader_of_an_older_store_brings_it_up_to_date(tmp_path: Path) -> None:
    """The web and `lists` open the store read-only: an older store is migrated once, then
    read (its readers need the stream)."""
    _old_store(tmp_path / "store.db").close()
    store = Store(tmp_path / "store.db", readonly=True)
    try:
        assert store.raw_bytes("k1") == RAW
        found = store.get_message("k1")
        assert found is not None and found.body == BODY
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "store.db")
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert version == (str(len(MIGRATIONS)),)


@pytest.mark.parametrize("seed", range(20))
def test_the_stream_is_plain_zlib(seed: int) -> None:
    """Written by ISA-L (`store.content._compress`), read by the stdlib's zlib everywhere
    (pages inflate a blob piece by piece): any body and raw bytes come back exactly."""
    rng = random.Random(seed)
    body = "".join(rng.choices("aé€🎉 \n>\x00", k=rng.randrange(0, 70_000)))
    raw = rng.randbytes(rng.randrange(0, 5_000)) + body.encode()
    stream, body_bytes, body_chars = pack(body, raw)
    assert zlib.decompress(stream) == body.encode() + raw
    assert (body_text(stream, body_bytes), raw_bytes(stream, body_bytes)) == (body, raw)
    assert body_chars == len(body)
