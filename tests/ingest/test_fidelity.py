"""Fidelity points of issue 13, each on a real fixture of `../shared/corpus/pathological/`
(read in place): folded Message-IDs, In-Reply-To cut before its `>`, where an unreadable
date came from, the original From_ line kept for exports, text/enriched `<param>` contents.
The messages built here are only the small replies and parents these fixtures need."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.reparse import reparse
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import removals, schema
from store.store import Store
from tests.ingest.parse_support import PATHOLOGICAL, fixture

JETSPEED = PATHOLOGICAL / "fixtures/ponymail-foal/jetspeed-user.portals.apache.org-27090.eml"
FOLDED_ID = (
    "AB767F0FA88E184295B9FA55AA4617C102BAC3972F@BLR-HCLT-EVS06.HCLT."
    "CORP.HCL.IN-1AAF5DAB-5B0B-7BC1-7E16-7904B17DF4C8"
)
WRONG_IRT = PATHOLOGICAL / "fixtures/hyperkitty-1.3.12/wrong-in-reply-to-header.txt"
ENVELOPE = b"From someone@example.org Mon Oct  5 12:40:42 2009\n"


def _mbox(path: Path, *messages: bytes) -> Path:
    """An mbox of messages that already start with their From_ line."""
    path.write_bytes(b"".join(m if m.endswith(b"\n") else m + b"\n" for m in messages))
    return path


def _sync(store: Store, name: str, path: Path) -> None:
    if name not in {row[0] for row in store.conn.execute("SELECT name FROM lists")}:
        store.add_list(name, "mbox", paths=[str(path)])
    summary = sync_list(store, name, MboxSource([str(path)]), workers=1)
    assert summary.error in (None, ""), summary.as_dict()


def _row(store: Store, msgid_norm: str) -> sqlite3.Row | tuple[object, ...]:
    row = store.conn.execute(
        "SELECT key, message_id, parent_key, parent_direct, thread_id, unixfrom, in_reply_to "
        "FROM messages WHERE message_id_norm = ?",
        (msgid_norm,),
    ).fetchone()
    assert row is not None, msgid_norm
    return tuple(row)


def _reply(msgid: str, in_reply_to: str, references: str = "") -> bytes:
    refs = f"References: {references}\n" if references else ""
    return (
        f"{ENVELOPE.decode()}From: Replier <replier@example.org>\n"
        f"Date: Tue, 6 Oct 2009 10:00:00 +0000\nSubject: Re: the LDAP question\n"
        f"Message-ID: <{msgid}>\nIn-Reply-To: {in_reply_to}\n{refs}\nA reply.\n"
    ).encode()


# -- a folded Message-ID ----------------------------------------------------------------------


def test_folded_message_id_is_unfolded() -> None:
    folded = fixture("ponymail-foal/jetspeed-user.portals.apache.org-27090.eml")
    # RFC 5322 unfolding: the line break goes, the white space of the fold stays
    assert folded.message_id == (
        "<AB767F0FA88E184295B9FA55AA4617C102BAC3972F@BLR-HCLT-EVS06.HCLT.\t"
        "CORP.HCL.IN-1AAF5DAB-5B0B-7BC1-7E16-7904B17DF4C8>"
    )
    assert folded.message_id_norm == FOLDED_ID


def test_replies_to_a_folded_message_id_link(tmp_path: Path) -> None:
    box = _mbox(
        tmp_path / "jetspeed.mbox",
        ENVELOPE + JETSPEED.read_bytes(),
        # one reply names the id folded as the original was, one unfolded
        _reply("r1@example.org", f"<{FOLDED_ID[:65]}\n\t{FOLDED_ID[65:]}>"),
        _reply("r2@example.org", f"<{FOLDED_ID}>"),
    )
    store = Store(tmp_path / "data" / "store.db")
    try:
        _sync(store, "jetspeed", box)
        key, message_id, *_ = _row(store, FOLDED_ID)
        assert "\n" not in str(message_id) and "\r" not in str(message_id)
        for reply in ("r1@example.org", "r2@example.org"):
            assert _row(store, reply)[2:4] == (key, 1)
    finally:
        store.close()


def test_reparse_unfolds_a_stored_folded_message_id(tmp_path: Path) -> None:
    box = _mbox(tmp_path / "jetspeed.mbox", ENVELOPE + JETSPEED.read_bytes())
    store = Store(tmp_path / "data" / "store.db")
    try:
        _sync(store, "jetspeed", box)
        # as the parser before issue 13 stored it: folding kept
        store.conn.execute(
            "UPDATE messages SET message_id = replace(message_id, 'HCLT.' || char(9), "
            "'HCLT.' || char(10, 9)) WHERE message_id_norm = ?",
            (FOLDED_ID,),
        )
        store.conn.commit()
        assert "\n" in str(_row(store, FOLDED_ID)[1])
        report = reparse(store, workers=1)
        assert report.fields["message_id"] == 1
        assert "\n" not in str(_row(store, FOLDED_ID)[1])
    finally:
        store.close()


# -- an In-Reply-To whose `<` never closes ----------------------------------------------------


def test_unterminated_in_reply_to_is_not_an_id() -> None:
    wrong = fixture("hyperkitty-1.3.12/wrong-in-reply-to-header.txt")
    assert wrong.in_reply_to == ()  # `<200704070053.46646.other.person@example`, cut


def test_unterminated_in_reply_to_falls_back_to_references(tmp_path: Path) -> None:
    raw = WRONG_IRT.read_bytes()
    own_id = "20070406224355.899B9180064@test.example.com"
    parent = _reply("parent@example.org", "")
    parent = parent.replace(b"In-Reply-To: \n", b"").replace(b"Re: the LDAP", b"the LDAP")
    # the fixture as a mailer that also wrote References would have sent it
    header_end = raw.index(b"\n\n")
    with_refs = raw[:header_end] + b"\nReferences: <parent@example.org>" + raw[header_end:]
    store = Store(tmp_path / "data" / "store.db")
    try:
        _sync(store, "plain", _mbox(tmp_path / "plain.mbox", raw))
        # no parent at all: its own thread, not one rooted at the cut id
        _, _, parent_key, _, thread_id, _, in_reply_to = _row(store, own_id)
        assert parent_key is None and in_reply_to == "[]"
        root = store.conn.execute(
            "SELECT root_message_id FROM threads WHERE thread_id = ?", (thread_id,)
        ).fetchone()
        assert root == (own_id,)
    finally:
        store.close()
    store = Store(tmp_path / "data2" / "store.db")
    try:
        _sync(store, "refs", _mbox(tmp_path / "refs.mbox", parent, with_refs))
        parent_key = _row(store, "parent@example.org")[0]
        # a direct reply to its References parent, not to a missing message in between
        assert _row(store, own_id)[2:4] == (parent_key, 1)
    finally:
        store.close()


# -- where an unreadable date came from -------------------------------------------------------


def test_unreadable_dates_record_their_source() -> None:
    korean = fixture("hyperkitty-1.3.12/non-ascii-date-header.txt")  # 8-bit EUC-KR Date
    absurd = fixture("hyperkitty-1.3.12/bad_date_tz.txt")  # zone -3000
    assert korean.date_source == absurd.date_source == "unixfrom"
    assert "date-from-unixfrom" in korean.flags and "date-from-unixfrom" in absurd.flags


# -- the original From_ line ------------------------------------------------------------------


ENRICHED = PATHOLOGICAL / "fixtures/ponymail-unit-tests/text_enriched.mbox"
ISO8859 = PATHOLOGICAL / "fixtures/perceval/mbox_iso8859_encoding.mbox"


def test_the_original_from_line_is_kept() -> None:
    enriched = fixture("ponymail-unit-tests/text_enriched.mbox")
    first = ENRICHED.read_bytes().split(b"\n", 1)[0]
    assert enriched.unixfrom.encode("latin-1") == first[5:]
    assert enriched.unixfrom.startswith("tomcat-user-return-34660-apmail-jakarta")
    # a bare message has none (exports rebuild one)
    assert fixture("ponymail-foal/jetspeed-user.portals.apache.org-27090.eml").unixfrom == ""


def test_stored_from_lines_keep_their_bytes_and_old_rows_get_them_again(
    tmp_path: Path,
) -> None:
    box = _mbox(tmp_path / "two.mbox", ENRICHED.read_bytes(), ISO8859.read_bytes())
    store = Store(tmp_path / "data" / "store.db")
    try:
        _sync(store, "two", box)
        lines = {
            str(r[0]).encode("latin-1") for r in store.conn.execute("SELECT unixfrom FROM messages")
        }
        originals = {f.read_bytes().split(b"\n", 1)[0][5:] for f in (ENRICHED, ISO8859)}
        assert lines == originals  # the raw ISO-8859-1 byte of perceval's line too
        # a row stored before From_ lines were kept ...
        store.conn.execute("UPDATE messages SET unixfrom = ''")
        store.conn.commit()
        report = reparse(store, workers=1)  # ... is not touched by reparse (not in the raw)
        assert report.changed == 0
        # ... and gets the line back when its volume is read again (rewritten, so read whole:
        # an append would be read from where the last sync stopped)
        box.write_bytes(_reply("late@example.org", "<x@example.org>") + box.read_bytes())
        _sync(store, "two", box)
        lines = {
            str(r[0]).encode("latin-1")
            for r in store.conn.execute(
                "SELECT unixfrom FROM messages WHERE message_id_norm != 'late@example.org'"
            )
        }
        assert lines == originals
    finally:
        store.close()


def test_a_purge_blanks_the_from_line_and_a_resync_does_not_restore_it(tmp_path: Path) -> None:
    box = _mbox(tmp_path / "one.mbox", ENRICHED.read_bytes())
    store = Store(tmp_path / "data" / "store.db")
    try:
        _sync(store, "one", box)
        keys = [str(r[0]) for r in store.conn.execute("SELECT key FROM messages")]
        removals.remove(store.conn, "message", keys[0], keys, reason="t", actor="t", purge=True)
        box.write_bytes(box.read_bytes() + _reply("late@example.org", "<x@example.org>"))
        _sync(store, "one", box)  # the purged copy is seen again
        row = store.conn.execute("SELECT unixfrom FROM messages WHERE key = ?", keys).fetchone()
        assert row == ("",)
    finally:
        store.close()


def test_migration_adds_the_from_line_column(tmp_path: Path) -> None:
    ours = next(i for i, s in enumerate(schema.MIGRATIONS) if "ADD COLUMN unixfrom" in s)
    conn = sqlite3.connect(tmp_path / "old.db")  # a store of the version before
    conn.executescript("".join(f"BEGIN;{s};COMMIT;" for s in schema.MIGRATIONS[:ours]))
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(ours),))
    conn.commit()
    assert "unixfrom" not in {r[1] for r in conn.execute("PRAGMA table_info(messages)")}
    assert schema.migrate(conn) == len(schema.MIGRATIONS)
    columns = {r[1]: r[4] for r in conn.execute("PRAGMA table_info(messages)")}
    assert columns["unixfrom"] == "''"
    conn.close()


# -- text/enriched ----------------------------------------------------------------------------


def test_text_enriched_drops_param_contents() -> None:
    body = fixture("ponymail-unit-tests/text_enriched.mbox").body
    assert "Courier New" not in body  # `<fontfamily><param>Courier New</param>`
    # `<<` is a literal `<`: the quoted XML keeps its closing tags
    assert "          </Context>\n        </Host>" in body
    assert '<ContextManager debug="0" workDir="work_jvm1"' in body
