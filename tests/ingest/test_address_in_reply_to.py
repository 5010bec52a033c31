"""In-Reply-To values that name a person, not a message (docs/fidelity.md), on the real
twisted-python volumes of `../shared/corpus` (read in place).

MH/exmh/nmh write `In-Reply-To: Message from NAME <address> of "date" <id>` (16 messages of
2002-2004); a few mailers wrote the quoted author's bare address (`In-Reply-To:
glyph@twistedmatrix.com`, 4 messages of 2002).  Taken as ids, each address became a ghost
parent: every message that person wrote and someone answered this way was pulled under it,
unrelated threads merged into one."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

from ingest.parse import parse_message
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.ingest.parse_support import split_file

VOLUMES = "pipermail/twisted/twisted-python"


def _volume(corpus: Path, tmp_path: Path, month: str) -> Path:
    path = tmp_path / f"{month}.mbox"
    path.write_bytes(gzip.decompress((corpus / VOLUMES / f"{month}.txt.gz").read_bytes()))
    return path


def _parsed(corpus: Path, tmp_path: Path, month: str, msgid: str) -> tuple[str, tuple[str, ...]]:
    """(the In-Reply-To header as written, the ids parsed from it) of one message."""
    for raw, unixfrom in split_file(_volume(corpus, tmp_path, month)):
        message = parse_message(raw, unixfrom)
        if message.message_id_norm == msgid:
            header = raw.split(b"\n\n", 1)[0].decode("latin-1")
            line = next(h for h in header.split("\n") if h.lower().startswith("in-reply-to:"))
            return line, message.in_reply_to
    raise AssertionError(f"{msgid} not in {month}")


def test_the_mh_form_gives_the_id_not_the_author(corpus: Path, tmp_path: Path) -> None:
    header, ids = _parsed(corpus, tmp_path, "2002-July", "E17UBFG-0002KW-00@localhost")
    assert header.startswith('In-Reply-To: Message from "Lewin, Karl E" <Karl.Lewin@BNSF.com>')
    assert ids == ("B90B981F6E7CD51195830002A5609B3279050B@ftwntexmp004.bnsf.com",)


def test_a_bare_address_is_not_an_id_and_a_bare_id_is(corpus: Path, tmp_path: Path) -> None:
    header, ids = _parsed(
        corpus, tmp_path, "2002-July", "15656.32310.397700.529283@erdos.totient.com"
    )
    assert header == "In-Reply-To: skreech@twistedmatrix.com"
    assert ids == ()
    header, ids = _parsed(corpus, tmp_path, "2012-May", "4FA2F857.6020608@fogcreek.com")
    assert header == "In-Reply-To: 4FA0BA19.8070009@itamarst.org"
    assert ids == ("4FA0BA19.8070009@itamarst.org",)


def test_no_thread_hangs_under_an_address(corpus: Path, tmp_path: Path) -> None:
    """2002-September: MH replies to Glyph, Itamar and Fred Drake, and replies to those whose
    mailer copied `<glyph@twistedmatrix.com>` into References."""
    path = _volume(corpus, tmp_path, "2002-September")
    store = Store(tmp_path / "data" / "store.db")
    try:
        store.add_list("tp", "mbox", paths=[str(path)])
        summary = sync_list(store, "tp", MboxSource([str(path)]), workers=1)
        assert summary.error in (None, ""), summary.as_dict()
        conn: sqlite3.Connection = store.conn
        authors = ["glyph@twistedmatrix.com", "twisted@itamarst.org", "fdrake@acm.org"]
        marks = ",".join("?" * len(authors))
        # none of the quoted authors is a node (a ghost parent) of any thread
        assert (
            conn.execute(
                f"SELECT message_id_norm FROM msgnodes WHERE message_id_norm IN ({marks})",
                authors,
            ).fetchall()
            == []
        )
        copied = conn.execute(
            "SELECT count(*) FROM messages WHERE refs LIKE '%\"glyph@twistedmatrix.com\"%'"
        ).fetchone()[0]
        assert copied >= 2, "References that name Glyph's address (kept as written)"
        # each MH reply, and each reply with the copied address, hangs directly under the
        # message its In-Reply-To names when the volume holds it
        replies: dict[str, str] = {}
        for raw, unixfrom in split_file(path):
            m = parse_message(raw, unixfrom)
            mh = b"In-Reply-To: Message from" in raw.split(b"\n\n", 1)[0]
            if m.in_reply_to and (mh or "glyph@twistedmatrix.com" in m.references):
                replies[m.message_id_norm] = m.in_reply_to[0]
        held = 0
        for own, parent in replies.items():
            row = conn.execute(
                "SELECT m.parent_key, m.parent_direct, p.key FROM messages m "
                "LEFT JOIN messages p ON p.message_id_norm = ? WHERE m.message_id_norm = ?",
                (parent, own),
            ).fetchone()
            if row[2] is not None:
                held += 1
                assert (row[0], row[1]) == (row[2], 1), own
        assert held >= 5, f"{held} of {len(replies)} replies have their parent in the volume"
    finally:
        store.close()
