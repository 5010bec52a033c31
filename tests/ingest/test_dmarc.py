"""DMARC "X via list" From rewriting is undone on real Mailman 2.1 and 3 messages."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

from ingest.parse import parse_message
from store.models import Address
from tests.support.hyperkitty_server import read_mbox

USRP = ("hyperkitty", "usrp-users-2021-03_to_2021-05.mbox.gz")
LIST = "usrp-users@lists.ettus.com"


def test_via_list_from_is_recovered_from_reply_to(corpus: Path) -> None:
    munged = [
        raw
        for raw in read_mbox(corpus.joinpath(*USRP))
        if " via " in str(message_from_bytes(raw, policy=compat32)["From"])
    ]
    assert len(munged) == 71
    for raw in munged:
        msg = message_from_bytes(raw, policy=compat32)
        parsed = parse_message(raw)
        assert "dmarc-from-recovered" in parsed.flags
        assert parsed.from_.address != LIST
        assert " via " not in parsed.from_.name
        assert parsed.from_.address in str(msg["Reply-To"]).lower()
    first_mailman3 = next(
        raw
        for raw in munged
        if str(message_from_bytes(raw, policy=compat32)["X-Mailman-Version"]).startswith("3")
    )
    parsed = parse_message(first_mailman3)
    assert parsed.from_.name and "@" in parsed.from_.address


def test_via_name_without_list_address_is_left_alone() -> None:
    raw = (
        b"From: Anne via Phone <anne@example.org>\nReply-To: other@example.org\n"
        b"List-Post: <mailto:some-list@example.org>\nSubject: hi\n"
        b"Date: Tue, 02 Mar 2021 18:52:50 +0000\nMessage-ID: <a@example.org>\n\nbody\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_ == Address("Anne via Phone", "anne@example.org")
    assert "dmarc-from-recovered" not in parsed.flags


def test_recovery_keeps_the_message_key() -> None:
    head = (
        b"Reply-To: Jane Doe <jane@example.org>\nList-Post: <mailto:some-list@example.org>\n"
        b"Subject: hi\nDate: Tue, 02 Mar 2021 18:52:50 +0000\nMessage-ID: <b@example.org>\n"
    )
    munged = b"From: Jane Doe via Some-list <some-list@example.org>\n" + head + b"\nbody\n"
    plain = (
        b"From: Jane Doe via Some-list <some-list@example.org>\n"
        + head.replace(b"List-Post: <mailto:some-list@example.org>\n", b"")
        + b"\nbody\n"
    )
    recovered, untouched = parse_message(munged), parse_message(plain)
    assert recovered.from_ == Address("Jane Doe", "jane@example.org")
    assert untouched.from_.address == "some-list@example.org"
    assert recovered.key == untouched.key
