"""`store.attachment_parts` finds in a message's raw bytes the parts ingest lists as its
attachments, in the same order and with the same decoded sizes (the web's downloads and any
other reader rely on the n-th part being the n-th attachment listed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.bodytext import MAX_DEPTH
from ingest.mboxsplit import split_mbox
from ingest.parse import parse_message
from store.attachment_parts import attachment_parts, payload_bytes
from tests.conftest import CORPUS

PATHOLOGICAL = CORPUS / "pathological"
SAMPLES = sorted(
    [
        *(PATHOLOGICAL / "mined" / "attachment").glob("*.mbox"),
        *(PATHOLOGICAL / "mined" / "digest_or_forward").glob("*.mbox"),
        *(PATHOLOGICAL / "mined" / "deep_mime_nesting").glob("*.mbox"),
        *(PATHOLOGICAL / "fixtures" / "mailman-3.3.10").glob("*.eml"),
    ]
)


def _messages(path: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    return list(split_mbox(data)) if path.suffix == ".mbox" else [("", data)]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_parts_found_are_the_attachments_listed(path: Path) -> None:
    for unixfrom, raw in _messages(path):
        listed = [a for a in parse_message(raw, unixfrom).attachments if not a.scrubbed_url]
        parts = attachment_parts(raw, MAX_DEPTH)
        assert [len(payload_bytes(p)) for p in parts] == [a.size for a in listed], path


def test_the_samples_hold_attachments() -> None:
    """The comparison above is not vacuous: the samples list attachments, several at once."""
    counts = [
        len(attachment_parts(raw, MAX_DEPTH)) for path in SAMPLES for _, raw in _messages(path)
    ]
    assert len(SAMPLES) >= 8 and sum(counts) >= 8 and max(counts) >= 2, counts


def test_a_plain_message_has_none() -> None:
    raw = b"From: a@example.org\nSubject: hi\n\nhello\n"
    assert attachment_parts(raw, MAX_DEPTH) == []


def test_below_the_depth_limit_no_part_is_found() -> None:
    inner = (
        b'Content-Type: application/pdf\nContent-Disposition: attachment; filename="a.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\nJVBERi0=\n"
    )
    raw = (
        b'From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nhi\n--b\n" + inner + b"--b--\n"
    )
    [part] = attachment_parts(raw, MAX_DEPTH)
    assert payload_bytes(part) == b"%PDF-"
    assert attachment_parts(raw, 0) == []
