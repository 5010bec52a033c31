"""Addresses are hidden from anonymous visitors: local part kept, domain replaced by `…`."""

from __future__ import annotations

import pytest

from webui.obfuscate import ELLIPSIS, mailbox, obfuscate_address, obfuscate_text


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("jane@example.org", f"jane at {ELLIPSIS}"),
        ("Jane.Doe+lists@mail.example.co.uk", f"Jane.Doe+lists at {ELLIPSIS}"),
        ("glyph at twistedmatrix.com", f"glyph at {ELLIPSIS}"),
        ("", ""),
        ("not-an-address", "not-an-address"),
    ],
)
def test_obfuscate_address(address: str, shown: str) -> None:
    assert obfuscate_address(address) == shown


def test_obfuscate_text_hides_every_address_and_keeps_prose() -> None:
    text = (
        "On Tue, glyph at twistedmatrix.com wrote:\n"
        "> mail me at <jane@example.org> or bob@foo.example.net.\n"
        "Look at twisted.internet and at self.transport; meet at 10.\n"
    )
    shown = obfuscate_text(text)
    assert "twistedmatrix.com" not in shown
    assert "example.org" not in shown and "foo.example.net" not in shown
    assert f"glyph at {ELLIPSIS} wrote:" in shown
    assert f"<jane at {ELLIPSIS}>" in shown
    assert f"bob at {ELLIPSIS}." in shown
    assert "Look at twisted.internet and at self.transport; meet at 10." in shown


def test_obfuscate_text_leaves_text_without_addresses_alone() -> None:
    text = "<script>alert(1)</script> version 1.2.3 @decorator"
    assert obfuscate_text(text) == text


def test_mailbox_keeps_display_name() -> None:
    assert mailbox("Jane Doe", "jane@example.org") == {
        "name": "Jane Doe",
        "address": f"jane at {ELLIPSIS}",
    }
    # a display name that repeats the address is hidden too
    assert mailbox("jane@example.org", "jane@example.org")["name"] == f"jane at {ELLIPSIS}"


def test_bracketed_pipermail_address_hidden_whatever_its_domain() -> None:
    # issue 13: the attribution line kept `lvh.cc` (cc is not a "common" TLD) while the
    # headers show `_ at …`: a mailbox in angle brackets follows the header rule
    text = "Laurens Van Houtven <_ at lvh.cc> wrote:\n> look at foo.py\n"
    shown = obfuscate_text(text)
    assert "lvh.cc" not in shown
    assert f"Laurens Van Houtven <{obfuscate_address('_ at lvh.cc')}> wrote:" in shown
    assert "look at foo.py" in shown
    shown = obfuscate_text("On Tue, lvh at lvh.cc wrote:\n> (glyph at lvh.cc) said\n")
    assert "lvh.cc" not in shown and f"lvh at {ELLIPSIS} wrote:" in shown
    assert f"(glyph at {ELLIPSIS})" in shown
