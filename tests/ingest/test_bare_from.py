"""From headers of old mailers: `Name local@domain`, no angle brackets (reality, divunal-*).

Before this rule the whole header became the "address" (`glyph lefkowitz glyph@divunal.com`),
which is no address, so those posts were all one "(unknown sender)" person."""

from __future__ import annotations

import gzip
import re
import sqlite3
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest import addresses
from ingest.addresses import parse_address_list, parse_from
from listarchive.cli import cli
from store.models import Address

REALITY = "pipermail/twisted/reality"
_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


def _from_headers(volume: Path) -> list[str]:
    """The From header of every message of a pipermail `.txt.gz` volume."""
    text = gzip.decompress(volume.read_bytes())
    starts = [m.start() for m in _FROM_LINE.finditer(text)]
    out = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        raw = text[begin:end]
        msg = message_from_bytes(raw[raw.find(b"\n") + 1 :], policy=policy.compat32)
        if msg["From"] is not None:
            out.append(str(msg["From"]))
    return out


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        # real headers: reality 1999-August, 1999-December, 2000-March; divunal-author
        ("Glyph Lefkowitz glyph@divunal.com", "Glyph Lefkowitz", "glyph@divunal.com"),
        ("James Knight jknight@MIT.EDU", "James Knight", "jknight@mit.edu"),
        ('Ben "NetJunki" Moore bam98@hampshire.edu', 'Ben "NetJunki" Moore', "bam98@hampshire.edu"),
        ("Aaron S Cook cook+@andrew.cmu.edu", "Aaron S Cook", "cook+@andrew.cmu.edu"),
        ("Tenth tenth@clockwork.twistedmatrix.com", "Tenth", "tenth@clockwork.twistedmatrix.com"),
        ("mistress of pain ald98@hampshire.edu", "mistress of pain", "ald98@hampshire.edu"),
        # the same address written twice (reality 2002-June, divunal-list): no name, one address
        ("glyph@twistedmatrix.com glyph@twistedmatrix.com", "", "glyph@twistedmatrix.com"),
        ("DewMyst@aol.com DewMyst@aol.com", "", "dewmyst@aol.com"),
        # pipermail's obfuscated form, as quoted in twisted-python 2002-July bodies
        (
            "Glyph Lefkowitz glyph at twistedmatrix.com",
            "Glyph Lefkowitz",
            "glyph@twistedmatrix.com",
        ),
        # a quoted name
        ('"Pierre Johnson" pierre@example.org', "Pierre Johnson", "pierre@example.org"),
        # forms handled before this rule, unchanged
        (
            "reality@twistedmatrix.com (Glyph Lefkowitz)",
            "Glyph Lefkowitz",
            "reality@twistedmatrix.com",
        ),
        (
            "radix at twistedmatrix.com (Christopher Armstrong)",
            "Christopher Armstrong",
            "radix@twistedmatrix.com",
        ),
        ("David Sturgis <dave@dcit.com>", "David Sturgis", "dave@dcit.com"),
    ],
)
def test_name_then_bare_address(header: str, name: str, address: str) -> None:
    assert parse_from(header) == Address(name=name, address=address)


@pytest.mark.parametrize(
    "header",
    [
        "a@example.org b@example.com",  # two addresses: which one is the sender's is unknown
        "Bob at home",  # `home` is no domain
        "Laurens Van Houtven [mailto:_ at lvh.cc]",  # twisted-python body text, not an addr-spec
        "Daniel Sank",
    ],
)
def test_no_address_is_made_from_what_is_not_one(header: str) -> None:
    assert parse_from(header).address == ""


def test_a_garbled_header_keeps_its_verbatim_form() -> None:
    """r-sig-finance 2020q4 (pathological/mined/mbox_from_quirks): one token looks valid,
    the words around it are broken addresses; taking it would make a sender up."""
    header = "borkrese@rch m@iii@g oii gm@ii@com (borkrese@rch m@iii@g oii gm@ii@com)"
    assert parse_from(header).address != "borkrese@rch"


def test_a_list_with_separators_is_not_one_bare_mailbox() -> None:
    found = parse_address_list(["Jane Doe jane@example.org, joe@example.org"])
    assert "joe@example.org" in {a.address for a in found}
    assert all(" " not in a.address and not a.address.startswith("@") for a in found)


def test_every_reality_sender_has_an_address(corpus: Path) -> None:
    """All From headers of reality's volumes: each gives one well-formed address, and a bare
    `Name address` header gives its name."""
    headers = [h for v in sorted((corpus / REALITY).glob("*.txt.gz")) for h in _from_headers(v)]
    assert len(headers) == 231  # article-counts.tsv: 231
    bare = [h for h in headers if "<" not in h and "(" not in h and len(h.split()) > 1]
    assert len(bare) >= 100  # 1999-2001 are nearly all in this form
    for header in headers:
        parsed = parse_from(header)
        assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", parsed.address), header
    for header in bare:
        parsed = parse_from(header)
        words = header.split()
        assert parsed.address in {w.lower() for w in words}, header
        assert parsed.name == " ".join(w for w in words if w.lower() != parsed.address).strip(
            '"'
        ), header


def _run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.stdout


def _senders(data_dir: Path) -> dict[str, int]:
    conn = sqlite3.connect(data_dir / "store.db")
    rows = conn.execute(
        "SELECT i.kind, count(*) FROM messages m JOIN identities i ON i.id = m.identity "
        "GROUP BY i.kind"
    ).fetchall()
    conn.close()
    return {str(kind): int(n) for kind, n in rows}


def test_reparse_gives_a_store_built_before_the_rule_its_senders(
    corpus: Path, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = tmp_path / "reality-1999-August.mbox"
    box.write_bytes(gzip.decompress((corpus / REALITY / "1999-August.txt.gz").read_bytes()))
    _run(data_dir, "lists", "add", "reality", "--mbox", str(box))
    # the parser as it was: no bare-mailbox rule
    monkeypatch.setattr(addresses, "_bare_mailbox", lambda value: None)
    addresses._parse_value.cache_clear()
    _run(data_dir, "sync", "--workers", "1")
    stored = sum(_senders(data_dir).values())
    assert stored >= 20
    assert _senders(data_dir) == {"unknown": stored}  # all 1999-August posts are bare
    monkeypatch.undo()
    addresses._parse_value.cache_clear()

    _run(data_dir, "reparse", "--workers", "1")
    assert _senders(data_dir) == {"address": stored}
    conn = sqlite3.connect(data_dir / "store.db")
    glyph = conn.execute(
        "SELECT DISTINCT from_name FROM messages WHERE from_addr = 'glyph@divunal.com'"
    ).fetchall()
    persons = conn.execute(
        "SELECT count(DISTINCT i.person) FROM identities i JOIN messages m ON m.identity = i.id"
    ).fetchone()[0]
    assert glyph == [("Glyph Lefkowitz",)]
    # the synthetic ids (no Message-ID in 1999) changed with the sender: no empty thread stays
    threads = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
    used = conn.execute("SELECT count(DISTINCT thread_id) FROM messages").fetchone()[0]
    assert (
        threads,
        conn.execute("SELECT count(*) FROM messages WHERE thread_id IS NULL").fetchone()[0],
    ) == (used, 0)
    assert persons == len(
        {parse_from(h).address for h in _from_headers(corpus / REALITY / "1999-August.txt.gz")}
    )
