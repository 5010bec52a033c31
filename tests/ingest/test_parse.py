"""`ingest.parse.parse_message`: identity, fingerprints, headers, dates, bodies, flags."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.htmltext import html_to_text
from ingest.parse import parse_message, split_subject
from ingest.quotes import split_body
from store.models import Address, Message
from tests.ingest.parse_support import CORPUS, first_line_stripped
from tests.support.bombs import deep_mime

PONYMAIL = CORPUS / "mbox/apache-ponymail"
TWISTED = CORPUS / "pipermail/twisted/twisted-python"
_PIPERMAIL_FROM = re.compile(rb"^From (\S+ at \S+  .*)$", re.MULTILINE)


def pipermail_messages(path: Path) -> list[tuple[bytes, str]]:
    data = gzip.decompress(path.read_bytes())
    found = list(_PIPERMAIL_FROM.finditer(data))
    out = []
    for index, match in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(data)
        out.append((data[match.end() + 1 : end], match.group(1).decode("utf-8", "replace")))
    return out


def without_message_id(path: Path) -> bytes:
    raw, _ = first_line_stripped(path)
    return re.sub(rb"(?mi)^Message-ID:.*\n", b"", raw)


def msg(text: str, unixfrom: str = "") -> Message:
    return parse_message(text.encode("utf-8"), unixfrom)


# --- not a message ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"\n\n  \n", b"just some words\nand more\n"])
def test_parse_error_only_for_non_messages(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_message(raw)


def test_minimal_header_is_a_message() -> None:
    parsed = parse_message(b"Subject: hi\n\nbody\n")
    assert parsed.subject == "hi" and parsed.body == "body"
    assert parsed.msgid_synthetic and parsed.date is None


# --- Message-ID, synthetic ids, content hash ---------------------------------------------------


def test_message_id_kept_as_written_and_normalised() -> None:
    parsed = msg("Message-ID:  <abc @ host.example>  \nFrom: a@b.org\n\nx\n")
    assert parsed.message_id == "<abc @ host.example>"
    assert parsed.message_id_norm == "abc@host.example"
    junk = msg("Message-ID: <id@host>+JUNK\n\nx\n")
    assert (junk.message_id, junk.message_id_norm) == ("<id@host>+JUNK", "id@host")
    bare = msg("Message-ID: 1142194650.47.145500680@twistedmatrix.com\n\nx\n")
    assert bare.message_id_norm == "1142194650.47.145500680@twistedmatrix.com"


def test_synthetic_id_is_the_same_for_two_exports_of_one_message() -> None:
    listsao = parse_message(without_message_id(PONYMAIL / "ponymail-dev-1080-listsao.mbox"))
    mboxvm = parse_message(without_message_id(PONYMAIL / "ponymail-dev-1080-mboxvm.mbox"))
    assert listsao.msgid_synthetic and mboxvm.msgid_synthetic
    assert "synthetic-msgid" in listsao.flags
    assert re.fullmatch(r"<synthetic-[0-9a-f]+@listarchive\.invalid>", listsao.message_id)
    assert listsao.message_id_norm == listsao.message_id[1:-1]
    assert listsao.message_id == mboxvm.message_id
    # a different envelope (From_ line) does not change it either
    again = parse_message(without_message_id(PONYMAIL / "ponymail-dev-1080-listsao.mbox"), "x  Mon")
    assert again.message_id == listsao.message_id


def test_synthetic_id_depends_on_content() -> None:
    one = msg("From: a@b.org\nSubject: one\nDate: Mon, 1 Jan 2018 10:00:00 +0000\n\nbody\n")
    two = msg("From: a@b.org\nSubject: two\nDate: Mon, 1 Jan 2018 10:00:00 +0000\n\nbody\n")
    assert one.message_id != two.message_id


def test_content_hash_equal_across_three_services() -> None:
    copies = [
        parse_message(*first_line_stripped(PONYMAIL / f"ponymail-dev-1080-{name}.mbox"))
        for name in ("listsao", "mailarchiesao", "mboxvm")
    ]
    assert len({m.content_hash for m in copies}) == 1
    assert len({m.key for m in copies}) == 1
    assert copies[0].message_id_norm == (
        "CAOwvvydHMY2oa8t4m+UWi8N4o+3JgdqSxujqRueP+OoiNW1EQg@mail.gmail.com"
    )


def test_content_hash_ignores_mailman_footer_and_whitespace() -> None:
    base = "From: a@b.org\nSubject: [List] hello\nDate: Mon, 1 Jan 2018 10:00:00 +0000\n\n"
    plain = msg(base + "Hello  there\nfriend\n")
    footer = msg(
        base.replace("[List] ", "Re: ")
        + "Hello there friend\n_______________________________________________\n"
        "List mailing list\nlist@example.org\nhttp://example.org/listinfo\n"
    )
    assert plain.content_hash == footer.content_hash
    assert footer.body_own == "Hello there friend"


# --- In-Reply-To / References ------------------------------------------------------------------


def test_in_reply_to_forms() -> None:
    text = 'In-Reply-To: Your message of "Mon, 1 Jan 2018" <a1@host>\n\nx\n'
    assert msg(text).in_reply_to == ("a1@host",)
    assert msg("In-Reply-To: free text without any id\n\nx\n").in_reply_to == ()
    assert msg("In-Reply-To: 1145163910.3.14@token.example (Bob)\n\nx\n").in_reply_to == (
        "1145163910.3.14@token.example",
    )
    # a bare token without a digit before its @ is an address (the person answered), not an id
    assert msg("In-Reply-To: bob@token.example (Bob)\n\nx\n").in_reply_to == ()
    mh = 'In-Reply-To: Message from Bob <bob@x.example>\n   of "Mon, 1 Jan 2018." <a1@host>\n'
    assert msg(mh + "\nx\n").in_reply_to == ("a1@host",)


def test_references_ordered_deduplicated_without_own_id() -> None:
    parsed = msg("Message-ID: <me@x>\nReferences: <a@x> <b@x>\n <a@x> <me@x> <c\n @x>\n\nbody\n")
    assert parsed.references == ("a@x", "b@x", "c@x")


# --- addresses ---------------------------------------------------------------------------------


def test_pipermail_obfuscated_from() -> None:
    parsed = msg("From: glyph at twistedmatrix.com (Glyph Lefkowitz)\n\nx\n")
    assert parsed.from_ == Address("Glyph Lefkowitz", "glyph@twistedmatrix.com")


def test_pipermail_encoded_word_name() -> None:
    path = CORPUS / "pathological/fixtures/hyperkitty-1.3.12/non-ascii-headers.txt"
    raw, unixfrom = first_line_stripped(path)
    first = raw.split(b"\n\nFrom ", 1)[0]
    assert parse_message(first, unixfrom).from_ == Address("Vít Ondruch", "vondruch@redhat.com")


def test_address_lists_lowercased() -> None:
    parsed = msg(
        'From: "Doe, Jane" <Jane.Doe@Example.ORG>\nTo: A <A@x.org>, b@Y.org\nCc: c@z.org\n\nx\n'
    )
    assert parsed.from_ == Address("Doe, Jane", "jane.doe@example.org")
    assert parsed.to == (Address("A", "a@x.org"), Address("", "b@y.org"))
    assert parsed.cc == (Address("", "c@z.org"),)


def test_unparseable_address_falls_back_to_flanker() -> None:
    parsed = msg("From: Foo Bar <foo@bar.com\n\nx\n")
    assert parsed.from_.address == "foo@bar.com"


# --- subjects ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "norm", "tag"),
    [
        ("Re: [Twisted-Python] Re: RE: Fwd: hello   world", "hello world", "Twisted-Python"),
        ("[Twisted-Python] AW: Sv: Re[2]: x", "x", "Twisted-Python"),
        ("Re: [PATCH v2 1/3] fix it", "[PATCH v2 1/3] fix it", ""),
        ("plain", "plain", ""),
    ],
)
def test_split_subject(subject: str, norm: str, tag: str) -> None:
    assert split_subject(subject) == (norm, tag)


def test_subject_charset_fallbacks() -> None:
    gb2312 = "=?gb2312?B?1tDOxA==?="  # 中文
    assert msg(f"Subject: {gb2312}\n\nx\n").subject == "中文"
    c1 = msg("Subject: =?iso-8859-1?q?caf=E9_=93quoted=94?=\n\nx\n")
    assert c1.subject == "café “quoted”"
    unknown = msg("Subject: =?x-nonsense?q?caf=C3=A9?=\n\nx\n")
    assert unknown.subject == "café" and "charset-fallback" in unknown.flags
    latin = msg("Subject: =?x-nonsense?q?caf=E9?=\n\nx\n")
    assert latin.subject == "café" and "charset-fallback" in latin.flags
    raw = parse_message("Subject: Grüße\n\nx\n".encode())
    assert raw.subject == "Grüße"
    raw_1252 = parse_message("Subject: Grüße\n\nx\n".encode("cp1252"))
    assert raw_1252.subject == "Grüße"
    unknown_8bit = msg("Subject: =?unknown-8bit?q?Gr=C3=BC=C3=9Fe?=\n\nx\n")
    assert unknown_8bit.subject == "Grüße"


# --- dates -------------------------------------------------------------------------------------


def test_date_header_to_utc() -> None:
    parsed = msg("Date: Fri, 13 Mar 2020 10:26:48 +0530\n\nx\n")
    assert parsed.date == datetime(2020, 3, 13, 4, 56, 48, tzinfo=UTC)
    assert parsed.date_offset_minutes == 330 and parsed.date_source == "header"


def test_date_fallbacks() -> None:
    unixfrom = "glyph at twistedmatrix.com  Sun Nov 14 21:29:28 2015"
    missing = msg("Subject: x\n\nx\n", unixfrom)
    assert missing.date == datetime(2015, 11, 14, 21, 29, 28, tzinfo=UTC)
    assert missing.date_source == "unixfrom" and "date-from-unixfrom" in missing.flags
    received = msg(
        "Received: from a by b; Tue, 2 Jan 2018 10:00:00 +0000\n"
        "Received: from c by a; Tue, 2 Jan 2018 09:59:00 +0000\nDate: garbage\n\nx\n"
    )
    assert received.date == datetime(2018, 1, 2, 10, 0, tzinfo=UTC)
    assert received.date_source == "received" and "date-from-received" in received.flags
    nothing = msg("Date: garbage\n\nx\n")
    assert nothing.date is None and nothing.date_source == "none"
    assert "date-missing" in nothing.flags
    ancient = msg("Date: Mon, 1 Jan 1901 00:00:00 +0000\n\nx\n", unixfrom)
    assert ancient.date_source == "unixfrom"


def test_absurd_offset_without_fallback_keeps_wall_time() -> None:
    parsed = msg("Date: Tue, 30 Nov 1999 23:56:33 -3000\n\nx\n")
    assert parsed.date == datetime(1999, 11, 30, 23, 56, 33, tzinfo=UTC)
    assert parsed.date_offset_minutes is None and "date-absurd-offset" in parsed.flags


def test_twisted_1945_february_gets_a_sane_date() -> None:
    messages = pipermail_messages(TWISTED / "1945-February.txt.gz")
    assert len(messages) == 2
    for raw, unixfrom in messages:
        parsed = parse_message(raw, unixfrom)
        assert parsed.date is not None and parsed.date.year == 2002
        assert "date-absurd-offset" in parsed.flags


# --- bodies ------------------------------------------------------------------------------------


def test_pipermail_scrubbed_attachment() -> None:
    raw = (
        b"From: sxsong at hotmail.com (Steven Song)\nSubject: [Twisted-Python] x\n\n"
        b"Hello there.\n-------------- next part --------------\n"
        b"An HTML attachment was scrubbed...\n"
        b"URL: http://twistedmatrix.com/pipermail/twisted-python/attachments/20080501/x.htm \n"
        b"-------------- next part --------------\n"
        b"A non-text attachment was scrubbed...\nName: pbout.png\nType: image/png\n"
        b"Size: 24283 bytes\nDesc: not available\nUrl : http://example.org/a.png \n"
    )
    parsed = parse_message(raw)
    assert parsed.body_own == parsed.body == "Hello there."
    html, png = parsed.attachments
    assert html.content_type == "text/html" and html.scrubbed_url.endswith("/x.htm")
    assert (png.filename, png.content_type, png.size) == ("pbout.png", "image/png", 24283)


def test_undeclared_8bit_body() -> None:
    utf8 = parse_message("Subject: x\n\nna\u00efve caf\u00e9\n".encode())
    assert utf8.body == "naïve café"
    cp1252 = parse_message("Subject: x\n\n\u201cquoted\u201d caf\u00e9\n".encode("cp1252"))
    assert cp1252.body == "“quoted” café"


def test_declared_charset_that_fails() -> None:
    raw = (
        b"Subject: x\nContent-Type: text/plain; charset=iso-2022-jp\n"
        b"Content-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n"
    )
    parsed = parse_message(raw)
    assert parsed.body == "café" and "charset-fallback" in parsed.flags


def test_multipart_alternative_prefers_plain() -> None:
    raw = (
        b"Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=B\n\n"
        b"--B\nContent-Type: text/html\n\n<p>html <b>version</b></p>\n"
        b"--B\nContent-Type: text/plain\n\nplain version\n--B--\n"
    )
    parsed = parse_message(raw)
    assert parsed.body == "plain version" and not parsed.is_html_only
    assert parsed.attachments == ()


def test_html_only_converted() -> None:
    raw = (
        b"Subject: x\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
        b"<body><p>Hello&nbsp;&amp; welcome</p><div>line two<br>line three</div>"
        b"<ul><li>one</li><li>two</li></ul><blockquote>quoted text</blockquote></body></html>"
    )
    parsed = parse_message(raw)
    assert parsed.is_html_only and "html-only" in parsed.flags
    assert "color" not in parsed.body and "alert" not in parsed.body
    assert "Hello & welcome" in parsed.body
    assert "line two\nline three" in parsed.body
    assert "- one\n- two" in parsed.body
    assert parsed.body_quoted == "quoted text"


def test_html_to_text_table_rows() -> None:
    assert html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == (
        "a\tb\nc"
    )


def test_deeply_nested_mime_does_not_crash() -> None:
    depth = 60
    head = b"Subject: deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n"
    parts = [head]
    for level in range(1, depth):
        parts.append(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (level - 1, level))
    parts.append(b"--b%d\nContent-Type: text/plain\n\ninnermost\n" % (depth - 1))
    for level in range(depth - 1, -1, -1):
        parts.append(b"--b%d--\n" % level)
    parsed = parse_message(b"".join(parts))
    assert parsed.subject == "deep"
    assert "mime-too-deep" in parsed.flags  # nesting beyond the walk limit is reported
    assert parsed.body == "innermost"  # and the text below it is still found


def test_mime_nested_deeper_than_the_limit_is_flagged_and_keeps_its_text() -> None:
    parsed = parse_message(deep_mime(45))
    assert "mime-too-deep" in parsed.flags
    assert "deep secret text" in parsed.body
    # the limit is a parameter (sync.max_mime_depth)
    assert "mime-too-deep" in parse_message(deep_mime(10), max_mime_depth=5).flags


def test_mime_nested_within_the_limit_is_decoded_fully() -> None:
    parsed = parse_message(deep_mime(25))
    assert parsed.body == "deep secret text"
    assert "mime-too-deep" not in parsed.flags and "mime-defect" not in parsed.flags


def test_mime_without_text_beyond_the_limit_says_so_in_the_body() -> None:
    raw = deep_mime(40).replace(b"Content-Type: text/plain", b"Content-Type: image/png")
    parsed = parse_message(raw)
    assert "mime-too-deep" in parsed.flags
    assert "nested more than 30 levels deep" in parsed.body


def test_mime_too_deep_for_the_parser_is_quarantined_with_the_reason() -> None:
    with pytest.raises(ParseError, match="MIME parts nested too deeply"):
        parse_message(deep_mime(3000))


def test_quotes_attribution_and_signature() -> None:
    parts = split_body(
        "Thanks!\n\nOn Fri, Mar 13, 2020 at 4:02 AM Daniel Gruno <humbedooh@apache.org>\n"
        "wrote:\n> Hi folks,\n>> older\n\nMy answer.\n-- \nSwapnil\nwww.apache.org\n"
    )
    assert parts.own == "Thanks!\n\nMy answer."
    assert parts.quoted == "Hi folks,\n> older"
    assert parts.signature == "Swapnil\nwww.apache.org"


def test_quoted_mailman_footer_stays_quoted() -> None:
    parsed = parse_message(
        *first_line_stripped(
            CORPUS / "pathological/mined/date_unparseable/"
            "twisted-python-pipermail-1945-February-00001.mbox"
        )
    )
    assert "Twisted-Python mailing list" in parsed.body_quoted
    assert "mailing list" not in parsed.body_own


# --- twisted-python quirks on real months --------------------------------------------------------


def test_twisted_weekly_bug_summary_ids_without_brackets() -> None:
    found = []
    for raw, unixfrom in pipermail_messages(TWISTED / "2006-March.txt.gz"):
        parsed = parse_message(raw, unixfrom)
        assert (
            parsed.from_.address
            and "@" in parsed.from_.address
            and " at " not in (parsed.from_.address)
        )
        if parsed.subject_norm == "Weekly Bug Summary":
            found.append(parsed)
    assert found
    assert all(not m.message_id.startswith("<") and "@" in m.message_id_norm for m in found)
    assert all(m.message_id == m.message_id_norm for m in found)


def test_twisted_month_parses_completely() -> None:
    messages = pipermail_messages(TWISTED / "2008-May.txt.gz")
    parsed = [parse_message(raw, unixfrom) for raw, unixfrom in messages]
    assert len(parsed) > 350
    assert all(m.date is not None and m.date.year == 2008 for m in parsed)
    tagged = [m for m in parsed if m.list_tag == "Twisted-Python"]
    assert len(tagged) > 0.95 * len(parsed)
    assert all("[Twisted-Python]" not in m.subject_norm for m in tagged)
    assert all("@" in m.from_.address for m in parsed)
    first = parsed[0]
    assert first.from_ == Address("Steven Song", "sxsong@hotmail.com")
    assert first.attachments[0].scrubbed_url.endswith("/20080501/7543425a/attachment.htm")
    assert "scrubbed" not in first.body_own
