"""Completeness per period: what we hold versus what the archive itself says it holds.

Pipermail publishes a per-period date index (`<period>/date.html`, "Messages: N" and one link
per message); HyperKitty reports a count per month (kept as the volume's `expected` count when
its source provides one).  Differences are listed so that a secretariat can trust the audit.
The date indexes are asked for where the list's index really is, on the origins the list allows
only, like its volumes.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from urllib.parse import urljoin

from ingest.http import HttpFetcher
from ingest.origins import OriginPolicy

logger = logging.getLogger(__name__)

_COUNT = re.compile(rb"<b>\s*Messages:\s*</b>\s*(\d+)", re.IGNORECASE)
_ITEM = re.compile(rb'<li>\s*<a\s+href="\d{6}\.html"', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PeriodCount:
    period: str
    archive: int | None
    """What the archive shows for the period (None when it does not say)."""
    in_volume: int
    """Messages our last fetch split out of the volume file (copies included)."""
    held: int
    """Distinct messages we hold from this volume for this list."""

    @property
    def difference(self) -> int | None:
        return None if self.archive is None else self.held - self.archive


def pipermail_date_index_count(html: bytes) -> int | None:
    """The message count of a pipermail date index page."""
    match = _COUNT.search(html)
    if match:
        return int(match.group(1))
    items = len(_ITEM.findall(html))
    return items or None


def pipermail_counts(
    base_url: str,
    periods: list[str],
    fetcher: HttpFetcher,
    policy: OriginPolicy | None = None,
) -> dict[str, int | None]:
    """Each period's count from its date index, relative to `base_url`: the list's index as
    it was found (`PipermailSource.index_url`, where its volume links are relative to too).
    Requests go to the origins of `policy` only (default `base_url`'s)."""
    base = base_url
    policy = policy or OriginPolicy.for_url(base)
    counts: dict[str, int | None] = {}
    for period in periods:
        result = fetcher.get(urljoin(base, f"{period}/date.html"), policy=policy)
        counts[period] = pipermail_date_index_count(result.content) if result.ok else None
    return counts


def held_counts(conn: sqlite3.Connection, list_id: int) -> dict[str, tuple[int, int]]:
    """Per volume of a list: (messages in the fetched volume, distinct messages held)."""
    held = dict(
        conn.execute(
            "SELECT origin, count(*) FROM memberships WHERE list = ? GROUP BY origin", (list_id,)
        ).fetchall()
    )
    return {
        name: (count, int(held.get(name, 0)))
        for name, count in conn.execute(
            "SELECT name, message_count FROM volumes WHERE list = ? AND status = 'ok'",
            (list_id,),
        )
    }


def compare(held: dict[str, tuple[int, int]], archive: dict[str, int | None]) -> list[PeriodCount]:
    periods = sorted(set(held) | set(archive))
    return [
        PeriodCount(p, archive.get(p), held.get(p, (0, 0))[0], held.get(p, (0, 0))[1])
        for p in periods
    ]
