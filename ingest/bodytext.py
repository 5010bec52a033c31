"""Body selection: walk the MIME tree, pick the text a person reads, list the other parts.

* text/plain is preferred; in multipart/alternative the plain alternative wins over HTML.
* HTML parts that are not an alternative to a plain part are converted to text
  (`ingest.htmltext`); when the main body came from HTML the mail is reported HTML-only.
* Inline text/plain parts of a multipart/mixed (e.g. list footers added as a separate part)
  are appended; parts with a filename or `Content-Disposition: attachment` become attachments.
* message/rfc822 parts (forwards, digests) contribute their headers summary and body text.
* Nesting deeper than `max_depth` (`sync.max_mime_depth`) is not decoded part by part: the
  text parts below it are still found (by a walk without recursion) and the result says
  `too_deep`; when none is found the body says so, so a message never silently loses its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message as EmailMessage

from ingest.decode import decode_bytes, decode_header, surrogates_to_bytes
from ingest.htmltext import html_to_text
from store.models import Attachment

__all__ = ["BodyResult", "extract_body", "part_text"]

MAX_DEPTH = 30
MAX_DEEP_PARTS = 10_000
"""Parts looked at below the depth limit (they are all in memory already: a bound on time;
`sync.max_deep_parts`)."""
_CTE_PLAIN = frozenset({"", "7bit", "8bit", "binary"})
_ENRICHED_TOKEN = re.compile(r"<<|<(/?)([A-Za-z][A-Za-z0-9-]{0,59})>")


@dataclass(slots=True)
class BodyResult:
    chunks: list[tuple[str, bool]] = field(default_factory=list)
    """Body texts in MIME order, with a flag telling whether they were converted from HTML."""
    attachments: list[Attachment] = field(default_factory=list)
    fallback: bool = False
    defect: bool = False
    too_deep: bool = False
    """Parts were nested deeper than the limit: only the text found below it was kept."""

    @property
    def text(self) -> str:
        return "\n\n".join(text.strip("\n") for text, _ in self.chunks if text.strip())

    @property
    def html_only(self) -> bool:
        """The main (first non-empty) body text came from HTML: no text/plain alternative."""
        for text, from_html in self.chunks:
            if text.strip():
                return from_html
        return False


def _content_type(part: EmailMessage) -> str:
    value = part.get("Content-Type")
    if value is None:
        return part.get_default_type()
    ctype = str(value).split(";", 1)[0].strip().lower()
    if ctype.count("/") != 1 or " " in ctype:
        return "text/plain"
    return ctype


def _charset(part: EmailMessage) -> str | None:
    try:
        charset = part.get_param("charset")
    except Exception:  # noqa: BLE001 - malformed RFC 2231 parameters
        return None
    if isinstance(charset, tuple):
        charset = charset[2] if len(charset) == 3 else None
    if not isinstance(charset, str):
        return None
    if not charset.isascii():
        return None
    return charset


def _payload_bytes(part: EmailMessage) -> bytes:
    """The transfer-decoded payload bytes (8-bit bytes exactly as received)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encodings
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return surrogates_to_bytes(payload)
    return b""


def part_text(part: EmailMessage) -> tuple[str, bool]:
    """The decoded text of a single-part message (charset fallbacks applied)."""
    payload = part.get_payload()
    if isinstance(payload, str) and payload.isascii() and "\x1b" not in payload:
        cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if cte in _CTE_PLAIN:
            charset = _charset(part)
            if not charset or "utf-7" not in charset.lower():
                return payload, False
    return decode_bytes(_payload_bytes(part), _charset(part))


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - garbage RFC 2231 parameters
        name = None
    if not name:
        try:
            name_param = part.get_param("name")
        except Exception:  # noqa: BLE001
            name_param = None
        name = name_param if isinstance(name_param, str) else None
    if not name:
        return ""
    text, _ = decode_header(str(name))
    return text


def _is_attachment(part: EmailMessage) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
    return disposition == "attachment" or bool(_filename(part))


def _attachment(part: EmailMessage, ctype: str) -> Attachment:
    return Attachment(filename=_filename(part), content_type=ctype, size=len(_payload_bytes(part)))


def _fill(text: str) -> str:
    """RFC 1896 fill: a lone line break is a space, n line breaks are n - 1."""
    return re.sub(r"\n+", lambda m: " " if len(m.group()) == 1 else m.group()[1:], text)


def _enriched_to_text(text: str) -> str:
    """text/enriched as plain text (RFC 1896): formatting commands dropped, and with them
    the contents of `<param>` (a font name, a colour: parameters, not text); `<<` is a
    literal `<`; line breaks filled, except inside `<nofill>`."""
    runs: list[list[str]] = []  # runs of kept text, alternately filled and not
    param = nofill = 0
    at = 0

    def emit(piece: str) -> None:
        if not piece or param:
            return
        if runs and runs[-1][0] == ("nofill" if nofill else "fill"):
            runs[-1].append(piece)
        else:
            runs.append(["nofill" if nofill else "fill", piece])

    text = text.replace("\r\n", "\n")
    for match in _ENRICHED_TOKEN.finditer(text):
        emit(text[at : match.start()])
        at = match.end()
        if match.group() == "<<":
            emit("<")
            continue
        step = -1 if match.group(1) else 1
        name = match.group(2).lower()
        if name == "param":
            param = max(param + step, 0)
        elif name == "nofill":
            nofill = max(nofill + step, 0)
    emit(text[at:])
    return "".join(
        "".join(run[1:]) if run[0] == "nofill" else _fill("".join(run[1:])) for run in runs
    )


def _has_plain(part: EmailMessage, depth: int, max_depth: int) -> bool:
    if depth > max_depth:
        return False
    ctype = _content_type(part)
    if ctype in ("text/plain", "text/enriched"):
        return not _is_attachment(part)
    if part.is_multipart():
        payload = part.get_payload()
        if isinstance(payload, list):
            return any(
                _has_plain(child, depth + 1, max_depth)
                for child in payload
                if isinstance(child, EmailMessage)
            )
    return False


def _forwarded_header(inner: EmailMessage) -> str:
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject"):
        value = inner.get(name)
        if value is not None:
            lines.append(f"{name}: {decode_header(str(value))[0]}")
    return "\n".join(lines) + "\n"


def _deep_text(top: EmailMessage, result: BodyResult, max_parts: int) -> None:
    """The text parts below the depth limit, in MIME order, found without recursion."""
    result.too_deep = True
    stack = [top]
    seen = 0
    while stack and seen < max_parts:
        part = stack.pop()
        seen += 1
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, EmailMessage)]))
            continue
        ctype = _content_type(part)
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            text, fallback = part_text(part)
            result.fallback = result.fallback or fallback
            result.chunks.append(
                (html_to_text(text), True) if ctype == "text/html" else (text, False)
            )


def _walk(
    part: EmailMessage, result: BodyResult, depth: int, max_depth: int, max_parts: int
) -> None:
    if depth > max_depth:
        _deep_text(part, result, max_parts)
        return
    if part.defects:
        result.defect = True
    ctype = _content_type(part)
    maintype = ctype.split("/", 1)[0]
    payload = part.get_payload()

    if ctype == "message/rfc822" or (maintype == "message" and isinstance(payload, list)):
        if isinstance(payload, list) and payload:
            inner = payload[0]
            if isinstance(inner, EmailMessage):
                result.chunks.append((_forwarded_header(inner), False))
                _walk(inner, result, depth + 1, max_depth, max_parts)
                return
        result.attachments.append(_attachment(part, ctype))
        return

    if part.is_multipart() and isinstance(payload, list):
        children = [child for child in payload if isinstance(child, EmailMessage)]
        if ctype == "multipart/alternative":
            plain = [child for child in children if _has_plain(child, depth + 1, max_depth)]
            chosen = plain[:1] or children[-1:]
            for child in chosen:
                _walk(child, result, depth + 1, max_depth, max_parts)
            return
        for child in children:
            _walk(child, result, depth + 1, max_depth, max_parts)
        return

    if maintype == "multipart":  # declared multipart without usable structure
        result.defect = True
        ctype = "text/plain"
    if ctype in ("text/plain", "text/enriched", "text/html") and not _is_attachment(part):
        text, fallback = part_text(part)
        result.fallback = result.fallback or fallback
        if ctype == "text/html":
            result.chunks.append((html_to_text(text), True))
        elif ctype == "text/enriched":
            result.chunks.append((_enriched_to_text(text), False))
        else:
            result.chunks.append((text, False))
        return
    result.attachments.append(_attachment(part, ctype))


def extract_body(
    msg: EmailMessage, max_depth: int = MAX_DEPTH, max_parts: int = MAX_DEEP_PARTS
) -> BodyResult:
    """Walk `msg` and collect body text, converted HTML and attachments, decoding MIME parts
    down to `max_depth` levels (below, at most `max_parts` parts are looked at for text)."""
    result = BodyResult()
    if not msg.is_multipart() and msg.get("Content-Type") is None:
        # fast path: pipermail text (no MIME headers at all)
        text, fallback = part_text(msg)
        result.chunks.append((text, False))
        result.fallback = fallback
        result.defect = bool(msg.defects)
        return result
    _walk(msg, result, 0, max_depth, max_parts)
    if result.too_deep and not result.text:
        result.chunks.append(
            (
                f"[The MIME parts of this message are nested more than {max_depth} levels "
                "deep; no text was found in them. The message source has them all.]",
                False,
            )
        )
    return result
