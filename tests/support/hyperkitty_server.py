"""A local HTTP server that serves real messages the way a Mailman 3 HyperKitty does.

It holds one list (real corpus messages), grouped by the UTC month of their Date, and serves:

- `/hyperkitty/list/<address>/`: the overview page, whose month menu links
  `/hyperkitty/list/<address>/<year>/<month>/` for every month from the oldest message's
  month to the current one (HyperKitty's `get_months`: empty months are listed too);
- `/hyperkitty/list/<address>/export/<name>.mbox.gz?start=YYYY-MM-DD&end=YYYY-MM-DD`: the
  messages whose Date is in `[start, end)`, in archival order, each rebuilt as HyperKitty's
  `Email.as_message` does (From_ line `From <sender> <archived %c>`, From, To = list address,
  Subject, Date, Message-ID, In-Reply-To, a multipart/mixed body of the text content with
  `@` written `(a)`, attachments), as a gzip stream with `Content-Disposition` and no ETag;
- `/hyperkitty/api/list/<address>/`: the REST list resource (JSON);
- 404 for anything else (an unknown list address included).

`add_message(raw)` makes a message appear (archived now).  Requests are counted per path and
`faults` injects `500`/`404`/`html` answers per path.  A simplification: HyperKitty's
scrubber is reduced to "text/plain parts without a file name are the content, every other
leaf part is an attachment".
"""

from __future__ import annotations

import email
import email.header
import email.policy
import gzip
import json
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.httpbase import QuietHandler, QuietServer, serve_in_thread, shut_down

_ADDRESS_RE = re.compile(r"([\w.+-]+)@([\w.+-]+)")


@dataclass(frozen=True)
class ArchivedEmail:
    """What HyperKitty keeps of a message (the fields `as_message` rebuilds it from)."""

    message_id: str
    sender_address: str
    sender_name: str
    subject: str
    date: datetime
    archived_date: datetime
    in_reply_to: str
    content: str
    attachments: tuple[tuple[str, str, bytes], ...]
    """(file name, content type, bytes)."""


def archive_email(raw: bytes, archived: datetime | None = None) -> ArchivedEmail:
    """Store a raw message the way HyperKitty's archiver does (reduced, see module doc)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, address = (getaddresses([str(msg.get("From", ""))]) or [("", "")])[0]
    when = parsedate_to_datetime(str(msg["Date"]))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    content: list[str] = []
    attachments: list[tuple[str, str, bytes]] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = re.sub(r"[\r\n]", "", part.get_filename() or "")
        if part.get_content_type() == "text/plain" and not filename:
            charset = part.get_content_charset() or "utf-8"
            try:
                content.append(data.decode(charset, "replace"))
            except LookupError:
                content.append(data.decode("utf-8", "replace"))
        else:
            attachments.append(
                (
                    filename or f"attachment.{part.get_content_subtype()}",
                    part.get_content_type(),
                    data,
                )
            )
    message_id = re.sub(r"\s", "", str(msg.get("Message-ID", ""))).strip("<>")
    in_reply_to = re.sub(r"\s", "", str(msg.get("In-Reply-To", "") or ""))
    subject = _unfold(str(msg.get("Subject", "")))
    sender_name = _unfold(name)
    return ArchivedEmail(
        message_id=message_id,
        sender_address=address.lower(),
        sender_name=sender_name,
        subject=subject,
        date=when,
        archived_date=archived or when.astimezone(UTC),
        in_reply_to=in_reply_to,
        content="\n".join(content),
        attachments=tuple(attachments),
    )


def _unfold(value: str) -> str:
    """A header's decoded text on one line (RFC 5322 unfolding, encoded words decoded)."""
    decoded = str(email.header.make_header(email.header.decode_header(value)))
    return re.sub(r"\r?\n", "", decoded)


def as_message(mail: ArchivedEmail, list_address: str) -> EmailMessage:
    """The message HyperKitty's export writes for an archived email."""
    msg = EmailMessage()
    msg.set_unixfrom(f"From {mail.sender_address} {mail.archived_date.strftime('%c')}")
    header_from = mail.sender_address
    if mail.sender_name and mail.sender_name != mail.sender_address:
        header_from = f"{mail.sender_name} <{mail.sender_address}>"
    msg["From"] = header_from
    msg["To"] = list_address
    msg["Subject"] = mail.subject
    msg["Date"] = mail.date.replace(microsecond=0).strftime("%a, %d %b %Y %H:%M:%S %z")
    msg["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    content = _ADDRESS_RE.sub(r"\1(a)\2", mail.content)
    # the text first, then each attachment (HyperKitty's export is always multipart/mixed)
    msg.set_content(content, subtype="plain")
    msg.make_mixed()
    for filename, ctype, data in mail.attachments:
        maintype, subtype = ctype.split("/", 1)
        # bytes, as HyperKitty stores them: base64 in the export
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def read_mbox(path: Path) -> list[bytes]:
    """The raw messages of an mbox file (gzipped or not), without their From_ lines."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    messages: list[bytes] = []
    current: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"From ") and re.match(rb"From \S+ +\w{3} \w{3} [ \d]\d ", line):
            if current:
                messages.append(b"".join(current))
            current = []
            continue
        current.append(line)
    if current:
        messages.append(b"".join(current))
    return messages


@dataclass
class HyperKittyServer:
    address: str = "usrp-users@lists.ettus.com"
    emails: list[ArchivedEmail] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)
    """Exact URL path -> `500`, `404` or `html`."""
    requests: Counter[str] = field(default_factory=Counter)
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    port: int = 0
    _server: QuietServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hyperkitty/"

    @property
    def list_path(self) -> str:
        return f"/hyperkitty/list/{self.address}/"

    def load(self, path: Path) -> int:
        raws = read_mbox(path)
        self.emails.extend(archive_email(raw) for raw in raws)
        return len(raws)

    def add_message(self, raw: bytes) -> ArchivedEmail:
        """A new post: archived now (it lands in the month of its Date)."""
        mail = archive_email(raw, archived=datetime.now(UTC))
        self.emails.append(mail)
        return mail

    def months(self) -> list[tuple[int, int]]:
        """HyperKitty's `get_months`: every month from the oldest message's to today's."""
        if not self.emails:
            return []
        first = min(m.date.astimezone(UTC) for m in self.emails)
        year, month = first.year, first.month
        found = []
        while (year, month) <= (self.today.year, self.today.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def overview(self) -> bytes:
        links = "\n".join(
            f'<li><a href="/hyperkitty/list/{self.address}/{y}/{m}/">{y}-{m:02d}</a></li>'
            for y, m in self.months()
        )
        return (
            f"<!DOCTYPE html><html><head><title>{self.address} - HyperKitty</title></head>"
            f'<body><div id="months-list"><ul class="list-unstyled">\n{links}\n</ul></div>'
            "</body></html>"
        ).encode()

    def export(self, query: str) -> bytes:
        params = parse_qs(query)
        selected = list(self.emails)
        if "start" in params:
            start = datetime.strptime(params["start"][0], "%Y-%m-%d").replace(tzinfo=UTC)
            selected = [m for m in selected if m.date >= start]
        if "end" in params:
            end = datetime.strptime(params["end"][0], "%Y-%m-%d").replace(tzinfo=UTC)
            selected = [m for m in selected if m.date < end]
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        chunks = []
        for mail in sorted(selected, key=lambda m: m.archived_date):
            message = as_message(mail, self.address)
            chunks.append(compressor.compress(message.as_bytes(unixfrom=True)))
            chunks.append(compressor.compress(b"\n\n"))
        chunks.append(compressor.flush())
        return b"".join(chunks)

    def api_list(self) -> bytes:
        root = f"http://127.0.0.1:{self.port}/hyperkitty/api/list/{self.address}/"
        return json.dumps(
            {
                "url": root,
                "name": self.address,
                "display_name": self.address.split("@")[0],
                "description": "",
                "subject_prefix": "",
                "archive_policy": "public",
                "created_at": "2021-03-01T00:00:00Z",
                "threads": root + "threads/",
                "emails": root + "emails/",
            }
        ).encode()

    def start(self) -> None:
        self._server = serve_in_thread(_make_handler(self))
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        shut_down(self._server)


def month_of(mail: ArchivedEmail) -> str:
    return mail.date.astimezone(UTC).strftime("%Y-%m")


def _make_handler(server: HyperKittyServer) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            server.requests[path] += 1
            fault = server.faults.get(path)
            if fault in ("404", "500"):
                self._send(int(fault), b"<html><body>error</body></html>", "text/html")
                return
            if fault == "html":
                self._send(200, b"<!DOCTYPE html><html><body>Log in</body></html>", "text/html")
                return
            prefix = server.list_path
            export = re.fullmatch(re.escape(prefix) + r"export/([^/]+)\.mbox\.gz", path)
            if path == prefix:
                self._send(200, server.overview(), "text/html; charset=utf-8")
            elif export:
                body = server.export(parts.query)
                disposition = f'attachment; filename="{export[1]}.mbox.gz"'
                self._send(200, body, "application/gzip", disposition=disposition)
            elif path == f"/hyperkitty/api/list/{server.address}/":
                self._send(200, server.api_list(), "application/json")
            else:
                self._send(404, b"<html><body>Not Found</body></html>", "text/html")

        def _send(self, status: int, body: bytes, ctype: str, *, disposition: str = "") -> None:
            self.send_body(
                status, body, {"Content-Type": ctype, "Content-Disposition": disposition}
            )

    return Handler
