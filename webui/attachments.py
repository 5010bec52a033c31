"""Attachments as downloads: `/messages/<key>/attachments/<n>` answers the ORIGINAL decoded
bytes of the message's n-th attachment (from 0, its position in the message's attachment list),
read from the stored raw message (already bounded by what ingest stores).

The MIME walk over the raw bytes is `store.attachment_parts` (the one `ingest.bodytext` makes
when it lists attachments), so the n-th part found there is the n-th part listed; a part whose
size differs from the listed one is answered 404 rather than served wrong.

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
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from store import queries, reader
from store.attachment_parts import attachment_parts, payload_bytes
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
