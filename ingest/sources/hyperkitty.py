"""Mailman 3 HyperKitty archives: the list overview page, then one mbox export per month.

What HyperKitty serves (read from its source: `hyperkitty/urls.py`, `views/mlist.py`,
`lib/view_helpers.py`, `models/email.py`, `lib/utils.py`, `api/mailinglist.py`,
`api/email.py`):

- Lists are keyed by their full posting address (`MailingList.name`), under the HyperKitty
  root (`/hyperkitty/` or, on many sites, `/archives/`): `<root>list/<address>/`.
- The overview page `<root>list/<address>/` links one archive page per month,
  `<root>list/<address>/<year>/<month>/`, for every month from the month of the list's
  oldest message up to the server's current month (`get_months`).  Months without mail are
  listed too, and no page or REST resource reports per-month message counts (the REST list
  resource has name, display_name, description, subject_prefix, archive_policy, created_at
  and the threads/emails URLs only; the emails resource is paginated newest-archived first).
  The overview is therefore the cheapest discovery: one request for every month.
- A month's export is `<root>list/<address>/export/<address>-<YYYY>-<MM>.mbox.gz
  ?start=YYYY-MM-01&end=<first day of next month>` (the month page's "Download" button):
  messages whose Date (UTC) is in `[start, end)`, ordered by archival time, as a gzip stream
  (`Content-Type: application/gzip`, `Content-Disposition: attachment;
  filename="<address>-YYYY-MM.mbox.gz"`).  The export is regenerated from HyperKitty's
  database on every request: each message is rebuilt (From_ line `From <sender address>
  <archival time, %c>`, From, To (the list address), Subject, Date, Message-ID,
  In-Reply-To, and a multipart/mixed body of the stored text with `@` in addresses written
  `(a)`, plus attachments), not the original bytes, and it carries no ETag or Last-Modified.
- HyperKitty's Message-ID-Hash (message URLs, thread ids) is the base32 of the SHA-1 of the
  Message-ID without whitespace and angle brackets (UTF-8); `Archived-At` carries it.
  Mailman core computes the same for its `X-Message-ID-Hash` header, except that it keeps
  the brackets when the header value does not start with `<` (a folded Message-ID header);
  see `mailman_message_id_hash` (`mailman/utilities/email.py add_message_hash`).

The cost of an incremental sync: since nothing tells which month changed, every month is
fetched once; afterwards a month that was fetched successfully is not requested again
unless it is the current or the previous month (UTC), which are re-fetched in full on every
run (a conditional GET is still sent, for deployments whose front end adds validators, and an
identical export is recognised by its sha256 and reported unchanged).  A month that failed
is retried on the next run.  A run thus costs 1 + 2 requests once the archive is known.  A
message archived late into an older month (an import, or a Date header far in the past) is
only picked up by a fresh sync of that list.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote

from ingest.errors import SourceError
from ingest.http import HttpFetcher
from ingest.origins import OriginPolicy
from ingest.sources.base import Download, Volume, carry, remembered, split_text_volume
from store.models import RawMessage
from store.records import VolumeState
from store.redact import redact

logger = logging.getLogger(__name__)

_MONTH_NAME = re.compile(r"^(\d{4})-(\d{2})$")
_HREF = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def _b32_sha1(value: str) -> str:
    return base64.b32encode(hashlib.sha1(value.encode("utf-8")).digest()).decode("ascii")


def message_id_hash(message_id: str) -> str:
    """HyperKitty's Message-ID-Hash, the key of its message URLs: base32(sha1(id)) of the
    Message-ID with all whitespace removed and without its angle brackets."""
    value = re.sub(r"\s", "", message_id)
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    return _b32_sha1(value)


def mailman_message_id_hash(header_value: str) -> str:
    """The hash Mailman 3 core writes in `Message-ID-Hash`/`X-Message-ID-Hash` and
    `Archived-At`.  It drops the angle brackets only when the raw header value starts with
    `<`: a folded header (`Message-ID:` then a newline) is hashed with its brackets, so
    for those messages `X-Message-ID-Hash` and HyperKitty's URL (`Archived-At`) disagree."""
    if header_value.startswith("<") and header_value.endswith(">"):
        return _b32_sha1(header_value[1:-1])
    return _b32_sha1(header_value.strip())


def root_url(base_url: str) -> str:
    """The HyperKitty root (ends with `/`); a list URL `<root>list/<address>/` is accepted."""
    url = base_url if base_url.endswith("/") else base_url + "/"
    match = re.search(r"list/[^/@]+(?:@|%40)[^/@]+/$", url)
    return url[: match.start()] if match else url


def list_url(base_url: str, address: str) -> str:
    return f"{root_url(base_url)}list/{quote(address, safe='@')}/"


def permalink(base_url: str, address: str, message_id: str) -> str:
    """HyperKitty's page for one message: `<root>list/<address>/message/<hash>/`."""
    return f"{list_url(base_url, address)}message/{message_id_hash(message_id)}/"


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First day of the month and first day of the next one (the export's start/end)."""
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, end


def export_url(base_url: str, address: str, year: int, month: int) -> str:
    """The month's export, exactly as the month page's Download button links it."""
    start, end = month_bounds(year, month)
    filename = f"{quote(address, safe='@')}-{year:04d}-{month:02d}"
    return (
        f"{list_url(base_url, address)}export/{filename}.mbox.gz"
        f"?start={start.isoformat()}&end={end.isoformat()}"
    )


def parse_months(html: str, address: str) -> list[tuple[int, int]]:
    """(year, month) of every month archive page linked from a list page, oldest first."""
    variants = {address.lower(), quote(address, safe="").lower()}
    found: set[tuple[int, int]] = set()
    for href in _HREF.findall(html):
        path = href.split("?", 1)[0].split("#", 1)[0]
        match = re.search(r"/list/([^/]+)/(\d{4})/(\d{1,2})/?$", path)
        if not match or match[1].lower() not in variants:
            continue
        year, month = int(match[2]), int(match[3])
        if 1 <= month <= 12:
            found.add((year, month))
    return sorted(found)


def volume_month(name: str) -> tuple[int, int] | None:
    match = _MONTH_NAME.match(name)
    return (int(match[1]), int(match[2])) if match else None


def recent_months(today: date) -> tuple[tuple[int, int], tuple[int, int]]:
    """The current and the previous month: always re-fetched."""
    current = (today.year, today.month)
    previous = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return current, previous


class HyperKittySource:
    kind = "hyperkitty"

    def __init__(
        self,
        base_url: str,
        address: str,
        fetcher: HttpFetcher,
        *,
        allow_origins: Sequence[str] = (),
    ) -> None:
        self.base_url = root_url(base_url)
        self.address = address.strip()
        self.fetcher = fetcher
        # the month exports are built from the root URL, never taken from a page; redirects
        # (and a root that is not the list's own) stay on the allowed origins
        self.policy = OriginPolicy.for_url(self.base_url, allow_origins)

    def volumes(self) -> list[Volume]:
        url = list_url(self.base_url, self.address)
        result = self.fetcher.get(url, policy=self.policy)
        shown = redact(url)
        if result.status == 404:
            raise SourceError(shown, f"no HyperKitty list {self.address} here (HTTP 404)")
        if not result.ok:
            raise SourceError(shown, result.error or f"HTTP {result.status}")
        months = parse_months(result.content.decode("utf-8", "replace"), self.address)
        logger.info("%s: %d months listed", shown, len(months))
        root = self._moved_root(result.url)
        return [
            Volume(name=f"{y:04d}-{m:02d}", url=export_url(root, self.address, y, m))
            for y, m in months
        ]

    def _moved_root(self, final_url: str) -> str:
        """The root the list page really came from: a list page redirected (on the allowed
        origins) to `<new root>list/<address>/` puts the exports under the new root."""
        if not final_url or final_url == list_url(self.base_url, self.address):
            return self.base_url
        root = root_url(final_url.split("?", 1)[0].split("#", 1)[0])
        if unquote(list_url(root, self.address)).lower() != unquote(final_url).lower():
            return self.base_url  # somewhere that is not a list page: keep the list's URL
        logger.info("%s: the list page is at %s", self.address, redact(final_url))
        return root

    def recent_volumes(
        self,
        states: Mapping[str, VolumeState],
        *,
        today: date | None = None,
        also: Collection[str] = (),
    ) -> list[Volume]:
        """For incremental runs: the previous and current calendar month, plus months whose
        last fetch failed or named in `also` (messages held in the quarantine by a limit
        raised since), without asking for the month list (HyperKitty's months are calendar
        months, so the current one is known): a new message costs one or two requests."""
        months = set(recent_months(today or datetime.now(UTC).date()))
        for name, state in states.items():
            month = volume_month(name)
            if (state.status != "ok" or name in also) and month is not None:
                months.add(month)
        return [
            Volume(name=f"{y:04d}-{m:02d}", url=export_url(self.base_url, self.address, y, m))
            for y, m in sorted(months)
        ]

    def download(
        self, volume: Volume, previous: VolumeState | None, *, today: date | None = None
    ) -> Download:
        month = volume_month(volume.name)
        recent = recent_months(today or datetime.now(UTC).date())
        if (
            previous is not None
            and previous.status == "ok"
            and previous.url == volume.url
            and month not in recent
        ):
            # a past month already fetched: HyperKitty gives no cheap way to see a change
            return Download(volume, "unchanged", state=previous, requests=0)
        same = previous if previous is not None and previous.url == volume.url else None
        result = self.fetcher.get(volume.url, same, policy=self.policy, spool=True)
        if result.status == 304 and same is not None:
            return Download(volume, "unchanged", state=same, requests=result.requests)
        if not result.ok:
            error = result.error or f"HTTP {result.status} for {redact(volume.url)}"
            return Download(volume, "failed", error=error, requests=result.requests)
        if result.head[:2] != b"\x1f\x8b" and "html" in result.content_type.lower():
            result.discard()
            error = f"an HTML page was served instead of an mbox export at {redact(volume.url)}"
            return Download(volume, "failed", error=error, requests=result.requests)
        state = VolumeState(
            name=volume.name,
            url=volume.url,
            etag=result.etag,
            last_modified=result.last_modified,
            sha256=result.sha256,
            size=result.size,
            fetched_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        )
        if remembered(previous) and previous is not None and previous.sha256 == state.sha256:
            result.discard()
            state = carry(previous, state)
            return Download(volume, "unchanged", state=state, requests=result.requests)
        return Download(
            volume,
            "fetched",
            state=state,
            requests=result.requests,
            path=result.path,
            temporary=True,
        )

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        return split_text_volume(volume, data)
