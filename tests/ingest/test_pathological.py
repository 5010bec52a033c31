"""One test per folder of `../shared/corpus/pathological/`: the text a person would read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.parse import parse_message
from tests.ingest.parse_support import PATHOLOGICAL, first_line_stripped, fixture, mined


def test_every_folder_has_a_test() -> None:
    folders = {p.parent.name for p in PATHOLOGICAL.glob("*/*/*") if p.is_file()}
    names = {name for name in globals() if name.startswith("test_")}
    for folder in folders:
        assert f"test_{folder.replace('-', '_').replace('.', '_')}" in names, folder


# --- mined/ ----------------------------------------------------------------------------------


def test_attachment() -> None:
    pdf = mined("attachment/openbmc-00343.mbox")
    assert "signed CLA from Wistron" in pdf.body
    assert [(a.filename, a.content_type) for a in pdf.attachments] == [
        ("OpenBMC.CCLA_Wistron.pdf", "application/pdf")
    ]
    assert pdf.attachments[0].size > 50_000
    script = mined("attachment/usrp-users-01082.mbox")
    assert ("syncTest.py", "text/x-python") in [
        (a.filename, a.content_type) for a in script.attachments
    ]
    assert "def " not in script.body  # the attached script is not body text
    tnef = mined("attachment/openbmc-13051.mbox")
    assert "winmail.dat" in [a.filename for a in tnef.attachments]
    assert "IPMI and PLDM" in tnef.body_own
    signed = mined("attachment/openbmc-00322.mbox")
    assert signed.signature.startswith("With best regards,\nAlexander Amelkin")
    assert "settings.cpp" in signed.body_own and "YADRO" not in signed.body_own


def test_date_unparseable() -> None:
    msg = mined("date_unparseable/twisted-python-pipermail-1945-February-00001.mbox")
    # `+50579034` offset, envelope says 1945: the wall time is kept, read as UTC
    assert msg.date == datetime(2002, 10, 22, 12, 14, 4, tzinfo=UTC)
    assert msg.date_offset_minutes is None
    assert msg.date_source == "header"
    assert "date-absurd-offset" in msg.flags
    assert "Paul Swartz sent me an SSH" in msg.body_own
    assert "Christopher Armstrong wrote" not in msg.body_own
    assert "writing clients document" in msg.body_quoted


def test_deep_mime_nesting() -> None:
    msg = mined("deep_mime_nesting/openbmc-08071.mbox")
    assert msg.from_.name == "George Liu (刘锡伟)"
    assert "updated Schedule A of CCLA" in msg.body_own
    assert "产品研发部" in msg.body
    names = [a.filename for a in msg.attachments]
    assert "Inspur Schedule A.PDF" in names and "smime.p7s" in names
    usrp = mined("deep_mime_nesting/usrp-users-01008.mbox")
    assert "synchronize two USRP N210 devices" in usrp.body
    assert {"cf_10e6.jpg", "cf_0e6.jpg"} <= {a.filename for a in usrp.attachments}


def test_digest_or_forward() -> None:
    msg = mined("digest_or_forward/openbmc-01885.mbox")
    assert msg.list_tag == "ENCRYPTED ATTACHMENT"
    assert msg.subject_norm == "Collectd and librrd based telemetry collection"
    # the forwarded message/rfc822 part is shown with its headers; its encrypted body is a part
    assert "Forwarded message" in msg.body
    assert "Subject: Collectd and librrd based telemetry collection" in msg.body
    assert "smime.p7m" in [a.filename for a in msg.attachments]


def test_encoded_word_exotic_charset() -> None:
    gb = mined("encoded_word_exotic_charset/openbmc-02504.mbox")
    assert gb.subject.startswith("回复：")
    assert gb.subject_norm.startswith("how can i use ipmitool")
    assert gb.from_ == type(gb.from_)("南野ムルシエラゴ", "1181052146@qq.com")
    korean = mined("encoded_word_exotic_charset/openbmc-06414.mbox")
    assert korean.from_.name == "Spencer Ku (古世瑜)"
    pipermail_gb = mined(
        "encoded_word_exotic_charset/twisted-python-pipermail-2007-April-00001.mbox"
    )
    assert pipermail_gb.from_.name == "甜瓜"
    assert pipermail_gb.from_.address == "littlesweetmelon@gmail.com"
    koi8 = mined("encoded_word_exotic_charset/twisted-python-pipermail-2008-January-00001.mbox")
    assert koi8.subject == "Fw: [Twisted-Python] Different behavior under Windows and Linux"
    assert koi8.list_tag == "Twisted-Python"
    euc_kr = mined("encoded_word_exotic_charset/twisted-python-pipermail-2013-June-00138.mbox")
    assert euc_kr.subject_norm == (
        "If the errbacks of a canceled Deferred are called with error other than "
        "CancelledError, is this acceptable?"
    )
    assert euc_kr.attachments[0].scrubbed_url.endswith("/20130623/17903276/attachment.html")
    assert euc_kr.body_own == ""


def test_exotic_charset() -> None:
    jp = mined("exotic_charset/openbmc-01889.mbox")  # iso-2022-jp subject and body
    assert jp.subject.startswith("回收: phosphor-ipmi-flash")
    assert "希望回收這封郵件" in jp.body
    koi8 = mined("exotic_charset/usrp-users-00007.mbox")  # koi8-r box drawing
    assert "┌──" in koi8.body
    big5 = mined("exotic_charset/openbmc-00097.mbox")
    assert big5.from_.name == "Will Liang (梁永鉉)"
    ks = mined("exotic_charset/usrp-users-00870.mbox")  # ks_c_5601-1987
    assert "보낸 사람" in ks.body
    latin2 = mined("exotic_charset/openbmc-05035.mbox")
    assert "Adrian Ambrożewicz" in latin2.body_quoted
    arabic = mined("exotic_charset/usrp-users-02451.mbox")  # windows-1256
    assert "التكنولوجي" in arabic.body
    cp1252 = mined("exotic_charset/openbmc-00048.mbox")
    assert "Need more debugging." in cp1252.body_own
    assert "Did you reproduce the resolution issue?" in cp1252.body_quoted


def test_header_line_over_998() -> None:
    msg = mined("header_line_over_998/openbmc-19356.mbox")
    assert len(msg.cc) > 20
    assert all("@" in a.address for a in msg.cc)
    assert msg.subject_norm.startswith("[PATCH net-next v3 06/10] dt-bindings")
    assert 'struggling to map "clk_csr_i" to a clock' in msg.body_own
    assert msg.in_reply_to == ("20240627004142.8106-7-fancer.lancer@gmail.com",)


def test_html_only() -> None:
    top = mined("html_only/openbmc-00289.mbox")
    assert top.is_html_only and "html-only" in top.flags
    assert "sending OpenBMC functional test specification for your review" in top.body
    assert "<" not in top.body_own
    alternative = mined("html_only/openbmc-20442.mbox")
    assert alternative.is_html_only
    assert "isn’t “upstream”" in alternative.body
    related = mined("html_only/openbmc-04187.mbox")
    assert "Thanks to all who attended and participated!" in related.body
    assert "Image.15797024303722.png" in [a.filename for a in related.attachments]
    forwarded = mined("html_only/openbmc-00225.mbox")
    assert "I am back from my surgeries" in forwarded.body_own
    assert "Original message" in forwarded.body_quoted


def test_mbox_from_quirks() -> None:
    obfuscated = mined(
        "mbox_from_quirks/r-sig-finance-pipermail-2020q4-00000-obfuscated-from-line.mbox"
    )
    assert obfuscated.subject_norm == "dccfit (RMGARCH): using uGARCHmultifit"
    assert obfuscated.list_tag == "R-SIG-Finance"
    assert obfuscated.date == datetime(2020, 11, 5, 6, 47, 54, tzinfo=UTC)
    assert obfuscated.from_.name.startswith("borkrese")
    # the whole byte range is ONE message: unescaped `From ` lines stay in the body
    unescaped = mined(
        "mbox_from_quirks/twisted-python-pipermail-2003-May-00410-unescaped-From.mbox"
    )
    assert unescaped.body.startswith("From listings/pclients/multiple.py:")
    assert unescaped.from_.address == "pobrien@orbtech.com"
    july = mined("mbox_from_quirks/twisted-python-pipermail-2002-July-00159-unescaped-From.mbox")
    assert "From here on, something like:" in july.body
    assert july.signature == "Regards,\nMukhsein Johari"
    october = mined(
        "mbox_from_quirks/twisted-python-pipermail-2003-October-00176-unescaped-From.mbox"
    )
    assert october.body_own.startswith("From my freshCfg:")
    assert october.attachments[0].content_type == "application/pgp-signature"


def test_mime_defect_top() -> None:
    msg = mined("mime_defect_top/openbmc-11236.mbox")
    assert "mime-defect" in msg.flags
    assert "Our Liwu2 project has stopped" in msg.body_own
    assert msg.list_tag == "External Mail"
    # these two files are over-split pipermail pieces: no header at all, so not a message
    for name in (
        "twisted-python-pipermail-2012-March-00015",
        "twisted-python-pipermail-2012-March-00181",
    ):
        raw, unixfrom = first_line_stripped(PATHOLOGICAL / "mined/mime_defect_top" / f"{name}.mbox")
        with pytest.raises(ParseError):
            parse_message(raw, unixfrom)


def test_mislabeled_charset() -> None:
    jis = mined("mislabeled_charset/openbmc-07776.mbox")  # iso-2022-jp with vendor kanji
    assert jis.to[0].name == "Bruce Lee (李昀峻)"
    assert "李昀峻" in jis.body_quoted
    stray = mined("mislabeled_charset/openbmc-15818.mbox")  # UTF-8 with lone 0xA0 bytes
    assert "\ufffd" not in stray.body and "\n\xa0\n" in stray.body
    assert "charset-fallback" in stray.flags
    c1 = mined("mislabeled_charset/usrp-users-02631.mbox")  # iso-8859-1 with cp1252 quotes
    assert "don’t use any GPSDO" in c1.body
    german = mined("mislabeled_charset/usrp-users-01631.mbox")
    assert "Verzeichnis „/home/lskt/rfnoc/src/uhd-fpga/usrp3/top/x300“ wird" in german.body
    gb = mined("mislabeled_charset/openbmc-02470.mbox")
    assert "charset-fallback" in gb.flags and "Booting Linux on physical CPU" in gb.body
    undeclared = mined("mislabeled_charset/usrp-users-02908.mbox")
    assert {"CMakeLists.txt", "siggen.cc"} <= {a.filename for a in undeclared.attachments}


def test_odd_in_reply_to() -> None:
    trailing = mined("odd_in_reply_to/openbmc-00908.mbox")
    assert trailing.in_reply_to == ("cover.1562734889.git.joe@perches.com",)
    two = mined("odd_in_reply_to/usrp-users-03898.mbox")
    assert (
        two.in_reply_to[0] == "CAB__hTT+gaOgFF2_ME+=bY9S21e_D-+XfCv7dH_qRmAZ-6h6oQ@mail.gmail.com"
    )
    assert len(two.in_reply_to) == 2
    assert "Cédric Hannotier" in two.signature
    none = mined("odd_in_reply_to/usrp-users-02628.mbox")
    assert none.in_reply_to == ()
    assert "Soft reminder!" in none.body_own


def test_odd_message_id() -> None:
    junk = mined("odd_message_id/openbmc-03220.mbox")
    assert junk.message_id.endswith(">+4075DA63F0F3317D")
    assert junk.message_id_norm == "1572938079818.42fm4q0m3erbrz5x4qk0iu1w@android.mail.163.com"
    assert "网易邮箱大师" in junk.body
    space = mined("odd_message_id/twisted-python-pipermail-2005-January-00008.mbox")
    assert space.message_id == "<1104874643.31904.249.camel@6 webmail.nil8r.net"
    assert space.message_id_norm == "1104874643.31904.249.camel@6webmail.nil8r.net"
    bare = mined("odd_message_id/twisted-python-pipermail-2006-March-00096.mbox")
    assert bare.message_id == bare.message_id_norm == "1142194650.47.145500680@twistedmatrix.com"
    assert bare.subject_norm == "Weekly Bug Summary" and not bare.msgid_synthetic
    qq = mined("odd_message_id/twisted-python-pipermail-2007-January-00004.mbox")
    assert qq.message_id_norm == "tencent_6B0945974B50F229186F5432@qq.com"


def test_raw_8bit_header() -> None:
    latin1 = mined("raw_8bit_header/twisted-python-pipermail-2004-February-00043.mbox")
    assert latin1.from_ == type(latin1.from_)("Nicolás Echániz", "nico@rakar.com")
    spanish = mined("raw_8bit_header/twisted-python-pipermail-2003-September-00079.mbox")
    assert spanish.from_.name == "Daniel Fernández"
    utf8 = mined("raw_8bit_header/openbmc-13619.mbox")
    assert utf8.to[0].name == "Jonathan Neuschäfer"
    assert "Neuschäfer wrote" in utf8.body
    cedric = mined("raw_8bit_header/openbmc-16130.mbox")
    assert "Cédric Le Goater" in [a.name for a in cedric.to]


def test_unknown_charset() -> None:
    msg = mined("unknown_charset/openbmc-17801.mbox")  # charset="y"
    assert "charset-fallback" in msg.flags
    assert "drive “4-wire” fans directly" in msg.body
    assert msg.signature == "2.25.1"


# --- fixtures/ -------------------------------------------------------------------------------


def test_hyperkitty_1_3_12() -> None:
    h = "hyperkitty-1.3.12/"
    assert fixture(h + "bad-subject-header.txt").subject == "(et en plus, en local…)"
    bad_tz = fixture(h + "bad_date_tz.txt")
    assert bad_tz.date == datetime(1999, 12, 1, 0, 56, 19, tzinfo=UTC)
    assert bad_tz.date_source == "unixfrom"
    assert {"date-absurd-offset", "date-from-unixfrom"} <= set(bad_tz.flags)
    folding = fixture(h + "bad_folding.txt")
    assert "Stichworte und Vorschlag PC-Mitglieder" in folding.subject_norm
    assert folding.subject.endswith("Ergänzung!") and "\r" not in folding.subject
    korean_date = fixture(h + "non-ascii-date-header.txt")
    assert korean_date.date == datetime(2001, 6, 27, 15, 23, 36, tzinfo=UTC)
    assert "date-unparseable" in korean_date.flags
    names = [fixture(h + "non-ascii-headers.txt", i).from_.name for i in range(6)]
    assert names[0] == "Vít Ondruch" and "Marcela Mašláňová" in names and "Dan Horák" in names
    assert fixture(h + "non-ascii-headers.txt", 0).from_.address == "vondruch@redhat.com"
    assert "charset-fallback" in fixture(h + "payload-utf8-wrong.txt").flags
    strange = fixture(h + "strange-in-reply-to-header.txt")
    assert strange.in_reply_to == ("200704070053.46646.other.person@example.com",)
    assert strange.body_own == "Dummy person's reply"
    assert strange.body_quoted == "Other person's message"
    wrong = fixture(h + "wrong-in-reply-to-header.txt")
    assert wrong.in_reply_to == ()  # `<...person@example` never closes: a cut id
    spam = fixture(h + "unknown-charset.txt")
    assert spam.is_html_only and "ordering medication" in spam.body
    vcard = fixture(h + "attachment-1.txt")
    assert vcard.attachments[0].filename == "puntogil.vcf"
    assert vcard.body_own == "This is a test message."  # Mailman 3 `-- ` footer removed
    assert "Questionnaire For My Project" in fixture(h + "another-wrong-encoding.txt").subject
    garbage = fixture(h + "unconvertable_msg-2.txt")
    assert garbage.subject == "SUBJECT" and garbage.from_.address == "sender@some.net"
    assert fixture(h + "attachment-3.txt").attachments[0].filename == "webpage.txt"
    assert fixture(h + "bad_content_type.txt").body == "Some text"


def test_mailman_3_3_10() -> None:
    utf7 = fixture("mailman-3.3.10/ascii_in_utf7.eml")
    assert "> On 3/1/19 5:00 AM, Jim X via Mailman-cabal wrote:" in utf7.body
    assert utf7.msgid_synthetic and "synthetic-msgid" in utf7.flags
    spam = fixture("mailman-3.3.10/bad_email.eml")
    assert "РЕКЛАМНАЯ РАССЫЛКА" in spam.body
    assert spam.from_.name.endswith("агентство") and spam.from_.address == ""
    assert spam.date is None and spam.date_source == "none" and "date-missing" in spam.flags
    unclosed = fixture("mailman-3.3.10/bad_email_3.eml")
    assert unclosed.message_id_norm == "2defef63984344cf41fdd06f7dbeqazx@example.com"
    assert "Liebe Grüsse" in unclosed.body
    signed = fixture("mailman-3.3.10/collapse_alternatives.eml")
    assert signed.body.startswith("This is the plain text") and not signed.is_html_only
    forwarded = fixture("mailman-3.3.10/msg_rfc822.eml")
    assert forwarded.body_own == "Plain body."
    assert "Attached Message 1 body." in forwarded.body


def test_perceval() -> None:
    latin1 = fixture("perceval/mbox_iso8859_encoding.mbox")
    assert latin1.from_.name == "Lucía Charlie"
    assert latin1.from_.address == "lucíacharlie@wellsfargo.com"
    gb = fixture("perceval/mbox_unknown_encoding.mbox")
    assert gb.from_.name == "袁聪"
    quotes = fixture("perceval/mbox_unixfrom_encoding.mbox")
    assert quotes.from_.name == "Christian Aistleitner"
    assert "WMF's main form of QA" in quotes.body_own
    no_fields = [fixture("perceval/mbox_no_fields.mbox", i) for i in range(6)]
    assert [m.msgid_synthetic for m in no_fields].count(True) == 1
    assert any(m.date_source == "unixfrom" for m in no_fields)
    assert all(m.from_.name == "Göran Lastname" for m in no_fields[:5])


def test_ponymail_foal() -> None:
    a = fixture("ponymail-foal/dev.activemq.apache.org-51149.eml")
    b = fixture("ponymail-foal/dev.activemq.apache.org-52937.eml")
    assert a.message_id_norm == b.message_id_norm == "git-pr-262-activemq-artemis@git.apache.org"
    assert a.content_hash != b.content_hash and a.key != b.key
    folded = fixture("ponymail-foal/jetspeed-user.portals.apache.org-27090.eml")
    assert "\n" not in folded.message_id and "\t" in folded.message_id  # unfolded, WSP kept
    assert folded.message_id_norm == (
        "AB767F0FA88E184295B9FA55AA4617C102BAC3972F@BLR-HCLT-EVS06.HCLT."
        "CORP.HCL.IN-1AAF5DAB-5B0B-7BC1-7E16-7904B17DF4C8"
    )
    assert "integrate Jetspeed 2.2.0 with an LdaP server" in folded.body_own
    assert folded.body_quoted.startswith("-----Original Message-----")
    kafka = fixture("ponymail-foal/users.kafka.apache.org-43276.eml")
    assert kafka.message_id == "<2021111716102807678710@emrubik.com>+942C722077850D4E"
    assert kafka.message_id_norm == "2021111716102807678710@emrubik.com"
    assert "consumer group information through the Kafka JAVA API" in kafka.body


def test_ponymail_unit_tests() -> None:
    dev = fixture("ponymail-unit-tests/httpd-dev-28428.mbox")
    users = fixture("ponymail-unit-tests/httpd-users-4950.mbox")
    assert dev.content_hash == users.content_hash  # only the list footer differs
    assert "To unsubscribe" not in users.body_own
    nexus = [fixture("ponymail-unit-tests/nexus-html-only.mbox", i) for i in range(3)]
    assert all(m.is_html_only for m in nexus)
    assert "Close Apache Commons CSV 1.4-RC2." in nexus[1].body
    enriched = fixture("ponymail-unit-tests/text_enriched.mbox")
    assert "multiple JVMs" in enriched.body and "<bold>" not in enriched.body.lower()
    boundary = fixture("ponymail-unit-tests/tomcat-ancient-boundary.mbox")
    assert boundary.body_own.startswith("Lajos...\n\n...this should definitely help")
    assert "Content-type" not in boundary.body
    assert fixture("ponymail-unit-tests/empty_body.mbox").body == ""
    empty = fixture("ponymail-unit-tests/empty_attachment.mbox")
    assert empty.subject == "how do I detect alive sessions at this moment?"
    assert empty.body == ""


@pytest.mark.parametrize(
    "path", sorted(p for p in PATHOLOGICAL.glob("*/*/*") if p.is_file()), ids=lambda p: p.name
)
def test_whole_file_never_crashes(path: Path) -> None:
    raw, unixfrom = first_line_stripped(path)
    try:
        msg = parse_message(raw, unixfrom)
    except ParseError:
        assert "mime_defect_top/twisted-python-pipermail-2012-March" in str(path)
        return
    assert msg.message_id_norm and len(msg.content_hash) == 64
