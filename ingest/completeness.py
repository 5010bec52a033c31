"""Completeness per period: what we hold versus what the archive itself says it holds.

Pipermail publishes a per-period date index (`<period>/date.html`, "Messages: N" and one link
per message); HyperKitty reports a count per month (kept as the volume's `expected` count when
its source provides one).  Differences are listed so that a secretariat can trust the audit.
The date indexes are asked for where the list's index really is, on the origins the list allows
only, like its volumes.  A date index that could not be fetched (the server is down, refused,
answered 5xx) is told apart from one the archive does not have (404, no count on the page):
the first is an error of the run (`ArchiveCounts.errors`), the second only an unknown count.
Periods are listed in time order (`period_key`), not by name.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ingest.http import HttpFetcher
from ingest.origins import OriginPolicy

logger = logging.getLogger(__name__)

_COUNT = re.compile(rb"<b>\s*Messages:\s*</b>\s*(\d+)", re.IGNORECASE)
_ITEM = re.compile(rb'<li>\s*<a\s+href="\d{6}\.html"', re.IGNORECASE)
_MONTHS = {
    m: i
    for i, m in enumerate(
        "january february march april may june july august september october november "
        "december".split(),
        start=1,
    )
}
_MONTH_PERIOD = re.compile(r"^(\d{4})-([A-Za-z]+)$")  # pipermail monthly: 2018-October
_NUMERIC_PERIOD = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")  # 2021-03, 2004
_QUARTER_PERIOD = re.compile(r"^(\d{4})q([1-4])$", re.IGNORECASE)  # pipermail quarterly
_DAY_PERIOD = re.compile(r"^(?:Week-of-Mon-)?(\d{4})(\d{2})(\d{2})$")  # weekly, daily


def period_key(name: str) -> tuple[int, int, int, int, str]:
    """Sort key putting periods in time order: pipermail's `2018-October`, `2004q1`, `2004`,
    `Week-of-Mon-20040105`, `20040105`, HyperKitty's `2021-03`; other names after them, by
    name."""
    found = _MONTH_PERIOD.match(name)
    if found and found.group(2).lower() in _MONTHS:
        return (0, int(found.group(1)), _MONTHS[found.group(2).lower()], 0, name)
    found = _QUARTER_PERIOD.match(name)
    if found:
        return (0, int(found.group(1)), 3 * int(found.group(2)) - 2, 0, name)
    found = _DAY_PERIOD.match(name) or _NUMERIC_PERIOD.match(name)
    if found:
        year, month, day = (int(g) if g else 0 for g in found.groups())
        return (0, year, month, day, name)
    return (1, 0, 0, 0, name)


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


@dataclass(frozen=True, slots=True)
class ArchiveCounts:
    counts: dict[str, int | None]
    """Per period, the archive's count (None when it gives none or could not be asked)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Per period whose count could not be fetched, why."""


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
) -> ArchiveCounts:
    """Each period's count from its date index, relative to `base_url`: the list's index as
    it was found (`PipermailSource.index_url`, where its volume links are relative to too).
    Requests go to the origins of `policy` only (default `base_url`'s); a host that refuses
    fails the remaining periods at once (`HttpFetcher.unreachable`)."""
    base = base_url
    policy = policy or OriginPolicy.for_url(base)
    found = ArchiveCounts({})
    for period in periods:
        result = fetcher.get(urljoin(base, f"{period}/date.html"), policy=policy)
        found.counts[period] = pipermail_date_index_count(result.content) if result.ok else None
        if result.status == 0 or result.status >= 500:
            found.errors[period] = result.error or f"HTTP {result.status}"
    return found


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
    periods = sorted(set(held) | set(archive), key=period_key)
    return [
        PeriodCount(p, archive.get(p), held.get(p, (0, 0))[0], held.get(p, (0, 0))[1])
        for p in periods
    ]
