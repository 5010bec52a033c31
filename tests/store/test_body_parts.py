"""The store keeps a message's body once and derives its own and quoted text from it when read
(issue 14, store size): what is read back is exactly what the parser split, and a store made
before (with the two copies as columns) loses the columns, not the text."""

from __future__ import annotations

import gzip
import sqlite3
import zlib
from pathlib import Path

from ingest.errors import ParseError
from ingest.mboxsplit import split_mbox
from ingest.parse import parse_message
from store.body_parts import split_body
from store.content import body_text
from store.records import StoredItem, VolumeState
from store.schema import MIGRATIONS, migrate
from store.store import Store
from tests.conftest import CORPUS

VOLUMES = [
    CORPUS / "pipermail" / "twisted" / "twisted-python" / name
    for name in ("2004-March.txt.gz", "2010-June.txt.gz")
]
PATHOLOGICAL = sorted((CORPUS / "pathological" / "mined").glob("*/*.mbox"))


def _messages() -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for path in VOLUMES:
        found.extend(split_mbox(gzip.decompress(path.read_bytes())))
    for path in PATHOLOGICAL:
        found.extend(split_mbox(path.read_bytes()))
    return found


def test_parts_read_back_are_the_parsed_ones(tmp_path: Path) -> None:
    messages = []
    for unixfrom, raw in _messages():
        try:
            messages.append(parse_message(raw, unixfrom))
        except ParseError:  # a corpus sample that is no message: quarantined by a sync
            continue
    quoting = [m for m in messages if m.body_quoted and m.body_own]
    assert len(messages) > 300 and len(quoting) > 100  # the comparison is not vacuous
    store = Store(tmp_path / "store.db")
    list_id = store.add_list("sample", "mbox").id
    items = [StoredItem.build(m, b"raw", "sample", i) for i, m in enumerate(messages)]
    store.save_volume(list_id, VolumeState(name="sample", url=""), items)
    compared = 0
    for message in messages:
        stored = store.get_message(message.key)
        assert stored is not None
        if stored.body == message.body:  # the first of two copies with one key is stored
            assert (stored.body_own, stored.body_quoted) == (message.body_own, message.body_quoted)
            compared += 1
    assert compared > 300
    columns = {row[1] for row in store.conn.execute("PRAGMA table_info(messages)")}
    store.close()
    assert "body_bytes" in columns and not {"body", "body_own", "body_quoted"} & columns


def test_an_empty_body_has_empty_parts() -> None:
    parts = split_body("")
    assert (parts.own, parts.quoted, parts.signature) == ("", "", "")


def test_the_migration_drops_the_copies_and_keeps_the_body(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "store.db")
    for script in MIGRATIONS[:13]:  # a store of the version before migration 14
        conn.executescript("BEGIN;" + script + ";COMMIT;")
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '13')")
    body = "Me too.\n\nBob wrote:\n> the reactor stops\n"
    needed = [
        (row[1], row[2])
        for row in conn.execute("PRAGMA table_info(messages)")
        if row[3] and row[4] is None and row[1] != "id"
    ]
    values: dict[str, object] = {name: 0 if kind == "INTEGER" else "" for name, kind in needed}
    values.update(key="k1", body=body, body_own="Me too.", body_quoted="the reactor stops")
    values.update(raw=zlib.compress(b"Subject: x\n\n" + body.encode()))
    conn.execute(
        f"INSERT INTO messages ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    conn.commit()
    assert migrate(conn) == len(MIGRATIONS)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    assert not {"body_own", "body_quoted"} & columns
    stream, body_bytes = conn.execute(
        "SELECT content, body_bytes FROM messages WHERE key = 'k1'"
    ).fetchone()
    assert body_text(stream, body_bytes) == body
    conn.close()
    parts = split_body(body)
    assert (parts.own, parts.quoted) == ("Me too.", "the reactor stops")
