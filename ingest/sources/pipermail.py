"""Mailman 2 pipermail archives: the index page, then one text volume per period.

Volumes are monthly (`2008-May`), quarterly (`2016q1`), yearly (`1997`) or weekly
(`Week-of-Mon-20080505`), linked as `.txt.gz` or (the current period, not yet gzipped) `.txt`.
Mailman appends to the plain `.txt` and regenerates the `.txt.gz` from it by cron, so a
`.txt.gz` can be stale: when both exist the plain `.txt` is used.  The first sync of a volume
may cost one extra request to learn which exists; later syncs make one conditional request to
the URL that worked.
"""

from __future__ import annotations

import calendar
import dataclasses
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urljoin

from ingest.errors import SourceError
from ingest.http import HttpFetcher, sha256
from ingest.sources.base import Download, Volume, split_text_volume
from store.models import RawMessage
from store.records import VolumeState

logger = logging.getLogger(__name__)

_MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name}
_LINK = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_VOLUME = re.compile(
    r"^(?P<name>(?P<year>\d{4})-(?P<month>[A-Z][a-z]+)|(?P<qyear>\d{4})q(?P<quarter>[1-4])"
    r"|(?P<yyear>\d{4})|Week-of-Mon-(?P<week>\d{8}))\.txt(?P<gz>\.gz)?$"
)


def volume_sort_key(name: str) -> tuple[int, int, int]:
    """(year, month, day) of a volume's first day, for ordering oldest first."""
    match = _VOLUME.match(name + ".txt")
    if not match:
        return (9999, 99, 99)
    if match["year"]:
        return (int(match["year"]), _MONTHS.get(match["month"], 0), 1)
    if match["qyear"]:
        return (int(match["qyear"]), 3 * int(match["quarter"]) - 2, 1)
    if match["yyear"]:
        return (int(match["yyear"]), 1, 1)
    week = match["week"]
    return (int(week[:4]), int(week[4:6]), int(week[6:]))


def parse_index(html: str, base_url: str) -> list[Volume]:
    """Find every archive volume linked from a pipermail index page (or a directory listing)."""
    found: dict[str, tuple[str, bool]] = {}
    for href in _LINK.findall(html):
        target = href.split("?", 1)[0].split("#", 1)[0]
        filename = target.rsplit("/", 1)[-1]
        match = _VOLUME.match(filename)
        if not match:
            continue
        if match["month"] and match["month"] not in _MONTHS:
            continue
        name = match["name"]
        gz = bool(match["gz"])
        previous = found.get(name)
        if previous is None or (previous[1] and not gz):
            found[name] = (urljoin(base_url, target), gz)
    volumes = []
    for name, (url, gz) in found.items():
        # The current period is linked as plain .txt until cron gzips it; older ones as .txt.gz
        # (whose plain twin is fresher when it exists).  Try .txt, fall back to .txt.gz.
        plain = url[: -len(".gz")] if gz else url
        volumes.append(Volume(name=name, url=plain, fallback_url=plain + ".gz"))
    volumes.sort(key=lambda v: volume_sort_key(v.name))
    return volumes


class PipermailSource:
    kind = "pipermail"

    def __init__(self, url: str, fetcher: HttpFetcher) -> None:
        self.base_url = url if url.endswith("/") else url + "/"
        self.fetcher = fetcher

    def volumes(self) -> list[Volume]:
        result = self.fetcher.get(self.base_url)
        if not result.ok:
            raise SourceError(self.base_url, result.error or f"HTTP {result.status}")
        html = result.content.decode("utf-8", "replace")
        volumes = parse_index(html, self.base_url)
        logger.info("%s: %d volumes listed", self.base_url, len(volumes))
        return volumes

    def download(self, volume: Volume, previous: VolumeState | None) -> Download:
        urls = [volume.url] + ([volume.fallback_url] if volume.fallback_url else [])
        if previous is not None and previous.url in urls:
            # fetch the URL that worked last time first
            urls.remove(previous.url)
            urls.insert(0, previous.url)
        requests = 0
        error = ""
        for url in urls:
            same_url = previous if previous is not None and previous.url == url else None
            result = self.fetcher.get(url, same_url)
            requests += result.requests
            now = datetime.now(UTC).replace(microsecond=0).isoformat()
            if result.status == 304 and same_url is not None:
                return Download(volume, "unchanged", state=same_url, requests=requests)
            if result.status == 404 and url != urls[-1]:
                continue
            if not result.ok:
                error = result.error or f"HTTP {result.status} for {url}"
                break
            digest = sha256(result.content)
            state = VolumeState(
                name=volume.name,
                url=url,
                etag=result.etag,
                last_modified=result.last_modified,
                sha256=digest,
                size=len(result.content),
                fetched_at=now,
            )
            if previous is not None and previous.sha256 == digest and previous.status == "ok":
                state = dataclasses.replace(state, message_count=previous.message_count)
                return Download(volume, "unchanged", state=state, requests=requests)
            if "html" in result.content_type.lower() and not result.content.startswith(b"From "):
                error = f"an HTML page was served instead of an archive at {url}"
                break
            return Download(volume, "fetched", data=result.content, state=state, requests=requests)
        return Download(volume, "failed", error=error, requests=requests)

    @staticmethod
    def split(volume: Volume, data: bytes) -> Iterator[RawMessage]:
        return split_text_volume(volume, data)
