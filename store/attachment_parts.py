"""The MIME walk that finds a stored message's attachments in its raw bytes: the parts
`ingest.bodytext` lists as attachments, in the same order, so that the n-th part found here
is the n-th attachment listed (down to `sync.max_mime_depth` levels, below which ingest keeps
text only).  Pure (the standard library's parser over bytes): the web UI's attachment
downloads (`webui.attachments`) use it, and so may the CLI or exports."""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

_PARSER = BytesParser(policy=compat32)


def _content_type(part: Message) -> str:
    value = part.get("Content-Type")
    if value is None:
        return part.get_default_type()
    ctype = str(value).split(";", 1)[0].strip().lower()
    if ctype.count("/") != 1 or " " in ctype:
        return "text/plain"
    return ctype


def _has_filename(part: Message) -> bool:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - garbage RFC 2231 parameters
        name = None
    if not name:
        try:
            param = part.get_param("name")
        except Exception:  # noqa: BLE001
            param = None
        name = param if isinstance(param, str) else None
    return bool(name)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
    return disposition == "attachment" or _has_filename(part)


def _has_plain(part: Message, depth: int, max_depth: int) -> bool:
    if depth > max_depth:
        return False
    ctype = _content_type(part)
    if ctype in ("text/plain", "text/enriched"):
        return not _is_attachment(part)
    payload = part.get_payload()
    if part.is_multipart() and isinstance(payload, list):
        return any(_has_plain(c, depth + 1, max_depth) for c in payload if isinstance(c, Message))
    return False


def _walk(part: Message, depth: int, max_depth: int, out: list[Message]) -> None:
    if depth > max_depth:
        return  # below the limit ingest keeps text only
    ctype = _content_type(part)
    maintype = ctype.split("/", 1)[0]
    payload = part.get_payload()
    if ctype == "message/rfc822" or (maintype == "message" and isinstance(payload, list)):
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            _walk(payload[0], depth + 1, max_depth, out)
            return
        out.append(part)
        return
    if part.is_multipart() and isinstance(payload, list):
        children = [c for c in payload if isinstance(c, Message)]
        if ctype == "multipart/alternative":
            plain = [c for c in children if _has_plain(c, depth + 1, max_depth)]
            children = plain[:1] or children[-1:]
        for child in children:
            _walk(child, depth + 1, max_depth, out)
        return
    if maintype == "multipart":
        ctype = "text/plain"
    if ctype in ("text/plain", "text/enriched", "text/html") and not _is_attachment(part):
        return
    out.append(part)


def attachment_parts(raw: bytes, max_depth: int) -> list[Message]:
    """The MIME parts of `raw` that ingest lists as attachments, in the same order."""
    msg = _PARSER.parsebytes(raw)
    if not msg.is_multipart() and msg.get("Content-Type") is None:
        return []
    out: list[Message] = []
    _walk(msg, 0, max_depth, out)
    return out


def payload_bytes(part: Message) -> bytes:
    """The transfer-decoded bytes of a part (8-bit bytes as received)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encodings
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""
