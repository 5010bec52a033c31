"""Attachments as downloads: `/messages/<key>/attachments/<n>` answers the ORIGINAL decoded
bytes of the message's n-th attachment (from 0, its position in the message's attachment list),
read from the stored raw message (already bounded by what ingest stores).

The MIME walk is the one `ingest.bodytext` makes when it lists attachments (webui may not import
ingest: `tests/test_layering.py`), so the n-th part found here is the n-th part listed; a part
whose size differs from the listed one is answered 404 rather than served wrong.

A download is never rendered: `Content-Disposition: attachment` with a sanitised
`filename*=UTF-8''...`, a content type from a short list of passive ones (anything else, HTML,
SVG, XML and scripts included, is `application/octet-stream`), `X-Content-Type-Options:
nosniff` and `Content-Security-Policy: sandbox`.  Private rules are the message's: a message
the viewer may not read is 404, as an unknown one.

Pipermail's scrubbed attachments (`-------------- next part --------------` notices) have no
bytes here: they link to the archive's attachment URL, only when that URL is on the origin of
one of the message's lists' archives (or an origin declared for it).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from store import queries, reader
from store.list_origins import allowed_origins
from webui import access
from webui.extensions import get_store, settings

log = logging.getLogger(__name__)

bp = Blueprint("attachments", __name__)
access.init_blueprint(bp)

PASSIVE_TYPES = frozenset(
    {
        "application/gzip",
        "application/pdf",
        "application/zip",
        "application/x-tar",
        "application/x-gzip",
        "application/x-bzip2",
        "application/octet-stream",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/plain",
        "text/x-diff",
        "text/x-patch",
    }
)
"""Content types served as they are (as downloads); every other one is octet-stream."""
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PARSER = BytesParser(policy=compat32)


# -- the walk (as ingest.bodytext lists attachments) -----------------------------------------


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


# -- headers ------------------------------------------------------------------------------------


def safe_filename(name: str, n: int) -> str:
    """`name` without path, control or shell-special characters (NFC, at most 150 chars);
    `attachment-<n>` when nothing is left."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" ._")[:150]
    return base or f"attachment-{n}"


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def safe_content_type(ctype: str) -> str:
    """`ctype` when it is a passive type, else `application/octet-stream`."""
    ctype = ctype.lower()
    return ctype if ctype in PASSIVE_TYPES else "application/octet-stream"


# -- origins of scrubbed links ------------------------------------------------------------------


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def archive_link(url: str, archives: Iterable[str]) -> str:
    """`url` when it is on one of the `archives` origins (an http one also as https), else ''."""
    found = _origin(url)
    if found is None:
        return ""
    allowed = {o for o in (_origin(a) for a in archives) if o is not None}
    scheme, host, port = found
    if found in allowed or (scheme == "https" and port == 443 and ("http", host, 80) in allowed):
        return url
    return ""


def list_archives(names: Iterable[str]) -> list[str]:
    """The archive URLs and declared origins of the lists `names`."""
    conn = get_store().conn
    wanted = list(names)
    out: list[str] = []
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        rows = conn.execute(f"SELECT url FROM lists WHERE name IN ({marks})", wanted)
        out.extend(str(r[0]) for r in rows if r[0])
    for name in wanted:
        out.extend(allowed_origins(conn, name))
    return out


# -- the route ----------------------------------------------------------------------------------


@bp.get("/messages/<key>/attachments/<int:n>")
def download(key: str, n: int) -> ResponseReturnValue:
    conn = get_store().conn
    found = queries.get_message(conn, key, access.viewer(), max_body_chars=0)
    if found is None or n >= len(found.attachments):
        abort(404, f"no attachment {n} of message {key!r}")
    listed = found.attachments[n]
    if listed.scrubbed_url:
        abort(404, "this attachment was scrubbed by the archive: it is on the archive's site")
    raw = b"".join(reader.raw_chunks(conn, key))
    parts = attachment_parts(raw, int(settings()["sync.max_mime_depth"]))
    data = payload_bytes(parts[n]) if n < len(parts) else None
    if data is None or len(data) != listed.size:
        log.warning("attachment %d of %s does not match its listing: not served", n, key)
        abort(404, f"attachment {n} of message {key!r} cannot be read from its source")
    response = Response(data, content_type=safe_content_type(listed.content_type))
    response.headers["Content-Disposition"] = content_disposition(safe_filename(listed.filename, n))
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
