"""Record shapes shared by the store and the packages that write to it.

`ingest.parse.parse_message` produces a `Message`; the store persists it.  These are frozen
dataclasses so a parsed message can be handed between processes and compared in tests.
The store imports nothing from ingest/search/webui: everything they exchange is defined here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from store.body_parts import split_body

KEY_SCHEME = "v1"
"""Name of the deterministic id scheme; bump it (and add a migration) if `message_key` changes."""

DateSource = Literal["header", "unixfrom", "received", "none"]


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: display name (decoded) and normalised address (lower-case, `at` undone)."""

    name: str
    address: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A non-body MIME part, or a part pipermail scrubbed (then `scrubbed_url` is set)."""

    filename: str
    content_type: str
    size: int
    scrubbed_url: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed message: everything derived from the raw bytes, nothing from the fetch.

    Text fields are always `str` (already decoded); missing headers are empty strings.
    """

    message_id: str
    """The Message-ID header as written, unfolded (line breaks removed, the white space of a
    fold kept: RFC 5322 2.2.3), or the synthetic id."""
    message_id_norm: str
    """Normalised id used for lookups and threading: the part inside <>, whitespace removed."""
    msgid_synthetic: bool
    in_reply_to: tuple[str, ...]
    """Normalised ids found in In-Reply-To (tolerant of `Your message of ... <id>` forms)."""
    references: tuple[str, ...]
    """Normalised ids from References, oldest first."""
    from_: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    """Decoded subject as the sender wrote it (list tag kept)."""
    subject_norm: str
    """Subject without list tags such as `[Twisted-Python]` and without Re:/Fwd: prefixes."""
    list_tag: str
    date: datetime | None
    """Sent date in UTC (tz-aware), or None when no usable date exists at all."""
    date_offset_minutes: int | None
    """The original zone offset in minutes, when the Date header had a sane one."""
    date_source: DateSource
    body: str
    """Decoded body text a person reads (text/plain preferred, HTML converted)."""
    signature: str
    is_html_only: bool
    attachments: tuple[Attachment, ...]
    flags: tuple[str, ...] = field(default=())
    """Parse observations, e.g. `synthetic-msgid`, `date-from-unixfrom`, `charset-fallback`."""
    content_hash: str = ""
    """Fingerprint of the content (sender, date, subject, body) used to recognise the same
    message delivered or exported twice; independent of envelope and transport headers."""
    unixfrom: str = ""
    """The mbox From_ line the source had (without `From `; its bytes read as Latin-1, so
    they come back unchanged), or "" (no From_ line, or not a real one).  Envelope, not
    content: kept so mbox exports write the original line instead of rebuilding one."""

    @property
    def body_own(self) -> str:
        """`body` without quoted lines and without the signature: what this author wrote
        (derived when asked, as the store derives it: `store.body_parts.split_body`)."""
        return split_body(self.body).own

    @property
    def body_quoted(self) -> str:
        """The quoted lines of `body` (without the leading `>` markers)."""
        return split_body(self.body).quoted

    @property
    def key(self) -> str:
        return message_key(self.message_id_norm, self.content_hash)


_B32_PAIRS = tuple(
    a + b for a in "abcdefghijklmnopqrstuvwxyz234567" for b in "abcdefghijklmnopqrstuvwxyz234567"
)
"""RFC 4648 base32 (lower case) of every 10-bit value: two characters per lookup."""


def _b32(data: bytes, length: int) -> str:
    """The first `length` characters of `base64.b32encode(data).lower()` (`data` holding at
    least `length * 5` bits, rounded up to a multiple of 10).  Python 3.11's base32 is pure
    Python (a loop over 5-byte quanta, padding, then decode/lower); this reads the needed bits
    as one integer and looks up 10 bits at a time: the same characters
    (tests/store/test_keys.py), 2.0 -> 1.0 us a key."""
    bits = (length + 1) // 2 * 10
    nbytes = (bits + 7) // 8
    value = int.from_bytes(data[:nbytes], "big") >> (nbytes * 8 - bits)
    pairs = _B32_PAIRS
    text = "".join([pairs[(value >> shift) & 1023] for shift in range(bits - 10, -1, -10)])
    return text[:length]


def message_key(message_id_norm: str, content_hash: str) -> str:
    """Deterministic message key (scheme v1): the same message always gets the same key.

    Two copies of a message (same Message-ID, same content) share a key; two different messages
    that reuse a Message-ID differ in content hash and so get different keys.
    """
    digest = hashlib.sha256(
        f"{KEY_SCHEME}\0{message_id_norm}\0{content_hash}".encode("utf-8", "surrogatepass")
    ).digest()
    return _b32(digest, 20)


def thread_key(root_message_id_norm: str) -> str:
    """Deterministic thread id from the normalised Message-ID of the thread's root."""
    digest = hashlib.sha256(f"{KEY_SCHEME}\0thread\0{root_message_id_norm}".encode()).digest()
    return "t" + _b32(digest, 15)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as a source delivers it, before parsing (perceval's item envelope)."""

    raw: bytes
    origin: str
    """Where it came from: the volume URL or file path."""
    position: int
    """Index of the message inside its volume (0-based), after re-joining over-split pieces."""
    unixfrom: str = ""
    """The mbox From_ line without the leading `From `, when there was one."""
