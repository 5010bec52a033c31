from __future__ import annotations

import gzip
import mailbox
from pathlib import Path

from ingest.mboxsplit import split_mbox


def test_pipermail_unescaped_from_lines_are_rejoined(corpus: Path) -> None:
    """twisted-python 2002-November has body lines starting with `From `: a naive split
    over-splits; ours keeps every piece with a header block and re-joins the rest."""
    path = corpus / "pipermail/twisted/twisted-python"
    over_split = 0
    ours_total = 0
    naive_total = 0
    for volume in sorted(path.glob("*.txt.gz")):
        data = gzip.decompress(volume.read_bytes())
        ours = list(split_mbox(data))
        ours_total += len(ours)
        naive = data.count(b"\nFrom ") + 1
        naive_total += naive
        if naive != len(ours):
            over_split += 1
        for _unixfrom, raw in ours:
            head = raw.split(b"\n\n", 1)[0]
            assert b"From:" in head or b"Message-ID:" in head or b"Subject:" in head
    assert over_split > 0
    assert ours_total < naive_total
    # the per-message HTML page count of the archive is 65,750 (MANIFEST); mailbox.mbox says 65,761
    assert 65_600 < ours_total <= 65_761


def test_from_line_with_two_spaces_and_obfuscated_sender() -> None:
    data = (
        b"From glyph at twistedmatrix.com  Sun Nov 14 21:29:28 2015\n"
        b"From: glyph at twistedmatrix.com (Glyph)\nSubject: hi\n\n"
        b"From my point of view this is fine.\n\n"
        b"From bob at example.org  Mon Nov 15 08:00:00 2015\n"
        b"From: bob at example.org (Bob)\nSubject: Re: hi\n\n>From the top\n"
    )
    pieces = list(split_mbox(data))
    assert [p[0] for p in pieces] == [
        "glyph at twistedmatrix.com  Sun Nov 14 21:29:28 2015",
        "bob at example.org  Mon Nov 15 08:00:00 2015",
    ]
    assert b"From my point of view" in pieces[0][1]
    assert pieces[1][1].endswith(b"From the top\n")


def test_fragment_without_headers_is_joined_to_previous() -> None:
    data = (
        b"From a at b.org  Sun Nov 14 21:29:28 2015\nFrom: a at b.org\nSubject: x\n\nbody\n\n"
        b"From c at d.org  Sun Nov 14 21:30:00 2015\n"
        b"this line is body text after an unescaped From_ look-alike\n"
    )
    pieces = list(split_mbox(data))
    assert len(pieces) == 1
    assert b"this line is body text" in pieces[0][1]


def test_bare_message_without_from_line() -> None:
    pieces = list(split_mbox(b"From: x@y.org\nSubject: s\n\nhello\n"))
    assert pieces == [("", b"From: x@y.org\nSubject: s\n\nhello\n")]


def test_full_header_mbox_matches_mailbox_count(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "mbox/apache-ponymail/httpd-users-2020-07.mbox.gz"
    data = gzip.decompress(source.read_bytes())
    plain = tmp_path / "x.mbox"
    plain.write_bytes(data)
    box = mailbox.mbox(str(plain))
    expected = len(box.keys())
    box.close()
    assert len(list(split_mbox(data))) == expected


def test_unknown_envelope_date_format_still_splits() -> None:
    data = (
        b"From a@b.org 2001-01-01T00:00:00Z\nFrom: a@b.org\nSubject: one\n\nbody one\n"
        b"From this point on it is body text\n\n"
        b"From c@d.org 2001-01-02T00:00:00Z\nFrom: c@d.org\nSubject: two\n\nbody two\n"
    )
    pieces = list(split_mbox(data))
    assert len(pieces) == 2
    assert b"From this point on" in pieces[0][1]
    assert pieces[1][1].startswith(b"From: c@d.org")
