from __future__ import annotations

import gzip
import mailbox
from pathlib import Path

import pytest

from ingest.errors import SourceError
from ingest.mboxsplit import split_mbox
from ingest.mboxstream import VolumeTooLarge, bytes_chunks, split_stream, volume_text


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


def _streamed(data: bytes, chunk: int, limit: int = 1 << 40) -> list[tuple[str, bytes]]:
    text = volume_text(bytes_chunks(data, chunk), "test", 1 << 40)
    pieces = list(split_stream(text, limit))
    assert not any(p.truncated for p in pieces)
    return [(p.unixfrom, p.raw) for p in pieces]


def test_the_stream_splitter_cuts_the_corpus_as_the_whole_volume_splitter(corpus: Path) -> None:
    """Streaming (bounded memory) and whole-volume splitting give the same messages, whatever
    the chunk size, on every mbox and pipermail volume of the corpus."""
    files = sorted((corpus / "mbox").rglob("*.mbox*")) + sorted(
        (corpus / "pipermail").rglob("*.txt.gz")
    )
    files += sorted((corpus / "pathological").rglob("*.mbox"))
    assert len(files) > 300
    for index, path in enumerate(files):
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        expected = list(split_mbox(data))
        chunk = (1 << 20, 4096, 977, 64)[index % 4]
        assert _streamed(raw, chunk) == expected, (path, chunk)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n  \n",
        b"From: x@y.org\r\nSubject: s\r\n\r\n>From here\r\n",
        b"From nobody Mon Jan  1 00:00:00 2001\nSubject: a\n\nFrom me\n\nFrom x"
        b" Tue Jan  2 00:00:00 2001\nnot a header\n",
        b"From someone at some time\nSubject: a\n\nbody\nFrom other at other time\nX: 1\n\nb\n",
        b"From odd envelope\nno header\nFrom odd again\nstill none\n",
        b"From odd envelope\nSubject: x\n\nb\nFrom a Mon Jan  1 00:00:00 2001\nSubject: a\n\nb\n",
        b"From a Mon Jan  1 00:00:00 2001\nSubject: a\n\nb\n\n\nFrom b Mon Jan  1 00:00:00 2001",
        b"From a Mon Jan  1 00:00:00 2001\nSubject: a\n\n" + b"x" * 20000 + b"\nFrom " * 3,
    ],
)
def test_the_stream_splitter_agrees_on_odd_volumes(data: bytes) -> None:
    expected = list(split_mbox(data))
    for chunk in (1, 2, 5, 7, 64, 1 << 20):
        assert _streamed(data, chunk) == expected, chunk
    assert _streamed(gzip.compress(data) + gzip.compress(b""), 3) == expected


def test_an_oversized_message_keeps_a_prefix_and_its_size() -> None:
    big = b"Subject: big\n\n" + b"y" * 5000
    data = (
        b"From a Mon Jan  1 00:00:00 2001\n" + big + b"\nFrom b Mon Jan  1 00:00:00 2001\nS: 2\n\n"
    )
    text = volume_text(bytes_chunks(data, 100), "test", 1 << 20)
    first, second = split_stream(text, 1000, keep=300)
    assert (first.truncated, first.size, first.raw) == (True, len(big) + 1, big[:300])
    assert not second.truncated and second.raw == b"S: 2\n"


def test_a_volume_over_the_limit_fails_as_it_is_read() -> None:
    bomb = gzip.compress(b"From a Mon Jan  1 00:00:00 2001\nS: 1\n\n" + b"\n" * (8 << 20))
    text = volume_text(bytes_chunks(bomb), "u", 1 << 20)
    with pytest.raises(VolumeTooLarge, match="decompresses to more than 1048576 bytes"):
        list(split_stream(text, 1 << 30))
    with pytest.raises(SourceError, match="corrupt gzip data"):
        list(split_stream(volume_text(bytes_chunks(bomb[:-20]), "u", 1 << 30), 1 << 30))
