"""`parse_message`: raw bytes of one message in, a frozen `store.models.Message` out.

Pure: no I/O, no settings.  Everything that can be salvaged is salvaged and every guess is
recorded in `Message.flags`:

* `synthetic-msgid`: no usable Message-ID; one was derived from the content.
* `date-from-unixfrom`, `date-from-received`, `date-missing`, `date-absurd-offset`,
  `date-unparseable`, `date-out-of-range`, `date-missing-header`: see `ingest.dates`.
* `charset-fallback`: a declared/assumed charset did not work (`ingest.decode`).
* `mime-defect`: the stdlib parser reported defects.
* `mime-too-deep`: MIME parts nested deeper than `sync.max_mime_depth`; the text found below
  that level is kept (or the body says none was found).
* `html-only`: the body was converted from HTML.
* `no-from`: no sender address could be found.
* `dmarc-from-recovered`: the From was Mailman's DMARC "X via list" rewrite; the real sender
  came from X-Original-From / Reply-To (`ingest.dmarc`).

Speed: the stdlib parser runs with the `compat32` policy (several times faster than
`email.policy.default`) and the common pipermail shapes take regex fast paths.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email._policybase import Compat32
from email.message import Message as EmailMessage
from email.parser import BytesParser

from ingest import dmarc
from ingest.addresses import parse_address_list, parse_from
from ingest.bodytext import MAX_DEEP_PARTS, MAX_DEPTH, extract_body
from ingest.dates import resolve_date
from ingest.decode import decode_header, surrogates_to_bytes
from ingest.errors import ParseError
from ingest.mboxsplit import is_from_line
from ingest.quotes import hash_words, normalise_for_hash, split_body, strip_footers, strip_scrubbed
from store.models import Address, Message

__all__ = ["normalise_msgid", "parse_message", "split_subject"]

SYNTHETIC_DOMAIN = "listarchive.invalid"


class _RawHeaders(Compat32):
    """compat32, but header values are returned as parsed (8-bit bytes as surrogates) instead
    of `Header` objects that have already replaced undeclared 8-bit bytes with U+FFFD."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


_POLICY = _RawHeaders()
_PARSER = BytesParser(policy=_POLICY)
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
_ANGLE = re.compile(r"<([^<>]*)>")
# MH/exmh/nmh replies: `Message from NAME <address> of "date" <id>`: the first <> is the
# author quoted, not a message
_MH_AUTHOR = re.compile(r"^\s*message\s+from\b[^<>]*<[^<>]*>", re.IGNORECASE)
# a bare id: its local part has a digit (a bare address such as glyph@host is not an id)
_BARE_ID = re.compile(r"[^@\s]*\d[^@\s]*@[^@\s]+$")
_WS = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PREFIX = re.compile(
    r"^(?:re|fwd?|aw|sv|vs|antw|wg|tr|rif|odp|r|回复|答复|转发|回覆)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_TAG = re.compile(r"^\[([^\[\]]{1,80})\]\s*")
_NOT_LIST_TAG = re.compile(r"^(patch|rfc|resend|pull|git|ann|announce|vote|result|discuss)\b", re.I)


def _header_str(value: object) -> str:
    """A header value as `str` (compat32 may hand out `email.header.Header` objects)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value)


def _first(headers: dict[str, list[str]], name: str) -> str:
    """The first value of header `name` (lower-case) as `str`, "" when there is none."""
    values = headers.get(name)
    return _header_str(values[0]) if values else ""


def _plain(value: str) -> str:
    """Turn surrogate-escaped 8-bit bytes into text without any decoding guesswork."""
    if value.isascii():
        return value
    return surrogates_to_bytes(value).decode("utf-8", "replace")


def normalise_msgid(value: str) -> str:
    """The part inside the first `<...>` (or the whole value), all whitespace removed."""
    match = _ANGLE.search(value)
    if match:
        inner = match.group(1)
    elif "<" in value:
        inner = value.split("<", 1)[1]
    else:
        inner = value
    return _WS.sub("", inner)


def _id_list(value: str, exclude: str = "") -> tuple[str, ...]:
    """Normalised ids in In-Reply-To/References, in order, deduplicated, without `exclude`.

    Ids are the contents of well-formed `<...>`; when there are none and no `<` at all, bare
    tokens containing `@` are taken, so free text yields nothing.  An id whose `<` never closes
    (`<...person@example` cut at the end of the header) is not taken: it would link the
    message to a parent with a truncated id; threading then falls back to References.
    Addresses are not ids (docs/fidelity.md): the `<address>` of MH's `Message from NAME
    <address> of "date" <id>` form is dropped, and a bare token is taken only when its local
    part has a digit (generated ids do: counters, times, hashes), so `In-Reply-To:
    glyph@twistedmatrix.com` links nothing.
    """
    if not value:
        return ()
    value = _MH_AUTHOR.sub("", _plain(value), count=1)
    ids = [_WS.sub("", found) for found in _ANGLE.findall(value)]
    if not ids and "<" not in value:
        # bare ids (`In-Reply-To: id@host`); a `<` that never closes is a cut id: not taken
        tokens = (token.strip("\"'(),;>") for token in value.split() if "@" in token)
        ids = [token for token in tokens if _BARE_ID.match(token)]
    out: list[str] = []
    for item in ids:
        if item and item != exclude and item not in out:
            out.append(item)
    return tuple(out)


def split_subject(subject: str) -> tuple[str, str]:
    """Return (subject_norm, list_tag): tags and Re:/Fwd: prefixes removed, spaces collapsed."""
    text = _WS.sub(" ", subject).strip()
    tag = ""
    while True:
        match = _PREFIX.match(text)
        if match:
            text = text[match.end() :]
            continue
        match = _TAG.match(text)
        if match and not _NOT_LIST_TAG.match(match.group(1).strip()):
            if not tag:
                tag = match.group(1).strip()
            text = text[match.end() :]
            continue
        break
    return text.strip(), tag


def _fingerprint(kind: str, sender: str, date: datetime | None, subject: str, body: str) -> str:
    stamp = str(int(date.timestamp())) if date is not None else ""
    text = "\0".join((kind, sender, stamp, hash_words(subject), body))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _parse_bytes(raw: bytes) -> EmailMessage:
    if not raw or not raw.strip():
        raise ParseError("empty message")
    start = raw.lstrip(b"\r\n")
    if start.startswith(b"From "):
        first_end = start.find(b"\n")
        rest = start[first_end + 1 :] if first_end >= 0 else b""
    else:
        rest = start
    if not _HEADER_LINE.match(rest):
        raise ParseError("no header block: not a message")
    quick = _parse_simple(rest, start)
    if quick is not None:
        return quick
    msg = _PARSER.parsebytes(raw)
    if not msg.keys():
        raise ParseError("no headers: not a message")
    if not msg.is_multipart() and msg.get_content_maintype() == "multipart":
        repaired = _repair_boundary(raw, msg)
        if repaired is not None:
            return repaired
    return msg


def _parse_simple(rest: bytes, start: bytes) -> EmailMessage | None:
    """Fast path for single-part plain-text mail (all of pipermail): split the header block
    ourselves (as compat32 would) and attach the body, skipping the stdlib's line loop.
    Anything unusual returns None and goes through the full stdlib parser."""
    sep = rest.find(b"\n\n")
    if sep <= 0:
        return None
    head = rest[:sep]
    if b"\r" in head:
        return None
    msg = EmailMessage(policy=_POLICY)
    # what `msg[name] = value` stores under compat32 (no count limit, the pair unchanged:
    # `Compat32.header_store_parse`), without two policy calls a header
    headers = msg._headers  # type: ignore[attr-defined]
    name = ""
    value: list[str] = []
    for line in head.decode("ascii", "surrogateescape").split("\n"):
        if line[:1] in (" ", "\t"):
            if not name:
                return None
            value.append("\n" + line)
            continue
        if name:
            headers.append((name, "".join(value)))
        match = _HEADER_NAME.match(line)
        if match is None:
            return None
        name = match.group(1)
        value = [line[match.end() :].lstrip(" \t")]
    if name:
        headers.append((name, "".join(value)))
    ctype = msg.get("Content-Type")
    if ctype is not None and not ctype.lstrip().lower().startswith("text/plain"):
        return None
    cte = msg.get("Content-Transfer-Encoding")
    if cte is not None and cte.strip().lower() not in ("7bit", "8bit", "binary", ""):
        return None
    msg.set_payload(rest[sep + 2 :].decode("ascii", "surrogateescape"))
    if start is not rest:
        msg.set_unixfrom(start[: start.find(b"\n")].decode("ascii", "surrogateescape"))
    return msg


_HEADER_NAME = re.compile(r"([\x21-\x39\x3b-\x7e]+)[ \t]*:")


_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";\s]+)"?', re.IGNORECASE)


def _repair_boundary(raw: bytes, msg: EmailMessage) -> EmailMessage | None:
    """The stdlib strips `<>` from a boundary such as `<<001-3e1d>>` and then finds no part;
    rewrite such a boundary to a plain token and parse again."""
    match = _BOUNDARY.search(_header_str(msg.get("Content-Type")))
    if match is None or not re.search(r"[<>]", match.group(1)):
        return None
    old = match.group(1).encode("ascii", "surrogateescape")
    new = re.sub(rb"[<>]", b"_", old)
    fixed = _PARSER.parsebytes(raw.replace(old, new))
    return fixed if fixed.is_multipart() else None


def _signature(text: str) -> str:
    """The signature `split_body` finds in `text` (footers removed).  It starts at a
    delimiter line, so a text with no line starting `--` has none: most bodies (71% on
    twisted-python) are not split at all here (the store derives the parts when read)."""
    if not (text.startswith("--") or "\n--" in text):
        return ""
    return split_body(text, footers_removed=True).signature


def _envelope_line(unixfrom: str) -> str:
    """`unixfrom` when it is a real From_ line (`sender asctime`) that can be written back
    byte for byte, else "" (exports then rebuild one)."""
    if not unixfrom or "\n" in unixfrom or "\r" in unixfrom:
        return ""
    try:
        line = b"From " + unixfrom.encode("latin-1")
    except UnicodeEncodeError:
        return ""
    return unixfrom if is_from_line(line) else ""


def _real_sender(msg: EmailMessage, sender: Address, flags: list[str]) -> Address:
    """The sender to show: DMARC "X via list" rewriting undone (`ingest.dmarc`).  The
    content fingerprint keeps the header From, so message keys do not change."""
    recovered = dmarc.recover_sender(msg, sender)
    if recovered is None:
        return sender
    flags.append(dmarc.FLAG)
    return recovered


def parse_message(
    raw: bytes,
    unixfrom: str = "",
    max_mime_depth: int = MAX_DEPTH,
    max_deep_parts: int = MAX_DEEP_PARTS,
) -> Message:
    """Parse one raw message.  `unixfrom` is the mbox From_ line without the leading `From `.
    MIME parts are decoded down to `max_mime_depth` levels (`sync.max_mime_depth`); below it
    only their text is kept (from at most `max_deep_parts` parts, `sync.max_deep_parts`) and
    the message is flagged `mime-too-deep`.

    Raises `ParseError` only when `raw` is not a message at all (empty, no header block), or
    is nested too deeply for the parser itself.
    """
    try:
        return _parse_message(raw, unixfrom, max_mime_depth, max_deep_parts)
    except RecursionError:
        raise ParseError("MIME parts nested too deeply to parse") from None


def _parse_message(raw: bytes, unixfrom: str, max_mime_depth: int, max_deep_parts: int) -> Message:
    msg = _parse_bytes(raw)
    flags: list[str] = []
    if not unixfrom:
        envelope = msg.get_unixfrom()
        if envelope:
            unixfrom = envelope[5:] if envelope.startswith("From ") else envelope

    # one pass over the header list instead of one per lookup (each `msg.get` lower-cases
    # every header name); values as `msg.get_all` returns them (this policy keeps them raw:
    # `_RawHeaders.header_fetch_parse`, so the stored pairs are read without a call each)
    headers: dict[str, list[str]] = {}
    for name, value in msg._headers:  # type: ignore[attr-defined]
        headers.setdefault(name.lower(), []).append(value)
    subject, subject_fallback = decode_header(_first(headers, "subject"))
    subject_norm, list_tag = split_subject(subject)

    from_values = headers.get("from") or headers.get("sender") or []
    sender = parse_from(_header_str(from_values[0])) if from_values else Address("", "")
    if not sender.address:
        flags.append("no-from")
    to = parse_address_list([_header_str(v) for v in headers.get("to", ())])
    cc = parse_address_list([_header_str(v) for v in headers.get("cc", ())])

    dates = resolve_date(
        _first(headers, "date"),
        unixfrom,
        [_header_str(v) for v in headers.get("received", ())],
    )
    flags.extend(dates.flags)

    body_result = extract_body(msg, max_mime_depth, max_deep_parts)
    body = body_result.text
    attachments = list(body_result.attachments)
    if "scrubbed..." in body:
        body, scrubbed = strip_scrubbed(body)
        attachments.extend(scrubbed)
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    without_footers = strip_footers(body)
    if subject_fallback or body_result.fallback:
        flags.append("charset-fallback")
    if body_result.defect or msg.defects:
        flags.append("mime-defect")
    if body_result.html_only:
        flags.append("html-only")
    if body_result.too_deep:
        flags.append("mime-too-deep")

    body_norm = normalise_for_hash(without_footers, footers_removed=True)
    # not the sender: lists rewrite From (DMARC "X via List") differently for one message
    content_hash = _fingerprint("content", "", dates.header_date, subject_norm, body_norm)

    # unfolded (RFC 5322 2.2.3: the line breaks go, the white space stays), as written else
    message_id = _LINE_BREAK.sub("", _plain(_first(headers, "message-id"))).strip()
    message_id_norm = normalise_msgid(message_id) if message_id else ""
    synthetic = not message_id_norm
    if synthetic:
        digest = _fingerprint("msgid", sender.address, dates.header_date, subject_norm, body_norm)
        message_id_norm = f"synthetic-{digest[:32]}@{SYNTHETIC_DOMAIN}"
        message_id = f"<{message_id_norm}>"
        flags.append("synthetic-msgid")

    return Message(
        message_id=message_id,
        message_id_norm=message_id_norm,
        msgid_synthetic=synthetic,
        in_reply_to=_id_list(_first(headers, "in-reply-to"), message_id_norm),
        references=_id_list(
            " ".join(_header_str(v) for v in headers.get("references", ())), message_id_norm
        ),
        from_=_real_sender(msg, sender, flags),
        to=to,
        cc=cc,
        subject=subject,
        subject_norm=subject_norm,
        list_tag=list_tag,
        date=dates.date,
        date_offset_minutes=dates.offset_minutes,
        date_source=dates.source,
        body=body,
        signature=_signature(without_footers),
        is_html_only=body_result.html_only,
        attachments=tuple(attachments),
        flags=tuple(dict.fromkeys(flags)),
        content_hash=content_hash,
        unixfrom=_envelope_line(unixfrom),
    )
