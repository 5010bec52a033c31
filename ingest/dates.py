"""Sent-date resolution: Date header, then the mbox From_ line, then Received headers.

Decision on absurd zone offsets (|offset| > 14 h, e.g. `+50579034` or `-3000`): the offset is
garbage, so the header cannot say which instant was meant.  We first fall back to the envelope
(`unixfrom`, treated as UTC), then to the newest `Received:` date, as for a missing date; only
when neither exists do we keep the header's wall-clock time read as UTC (`date_source` stays
`"header"`, `date_offset_minutes` is None).  In every case the flag `date-absurd-offset` is
added, plus `date-from-unixfrom` / `date-from-received` for the fallback actually used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz

from store.models import DateSource

__all__ = ["DateResult", "header_date", "resolve_date", "unixfrom_date"]

MAX_OFFSET_SECONDS = 14 * 3600
MIN_YEAR = 1970
MAX_YEAR = 2100

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_UNIXFROM = re.compile(
    r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+(\d{1,2})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:[A-Z]{3,4}\s+)?(\d{4})",
    re.IGNORECASE,
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True, slots=True)
class DateResult:
    date: datetime | None
    offset_minutes: int | None
    source: DateSource
    flags: tuple[str, ...]
    header_date: datetime | None
    """The date the Date header itself gives (None if unusable): content, not envelope."""


def _sane(when: datetime) -> bool:
    return MIN_YEAR <= when.year <= MAX_YEAR


def header_date(value: str) -> tuple[datetime | None, int | None, bool]:
    """Parse a Date header: (utc datetime or None, offset minutes or None, offset_absurd).

    With an absurd offset the returned datetime is the wall time read as UTC.
    """
    if not value:
        return None, None, False
    if not value.isascii():
        value = _NON_ASCII.sub(" ", value)
    try:
        parts = parsedate_tz(value)
    except (ValueError, IndexError, TypeError, OverflowError):
        return None, None, False
    if parts is None:
        return None, None, False
    year, month, day, hour, minute, second = parts[:6]
    offset = parts[9]
    try:
        wall = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None, None, False
    if offset is not None and abs(offset) > MAX_OFFSET_SECONDS:
        return wall, None, True
    if offset is None:
        return wall, None, False
    try:
        return wall - timedelta(seconds=offset), offset // 60, False
    except OverflowError:
        return None, None, False


def unixfrom_date(unixfrom: str) -> datetime | None:
    """The asctime date of an mbox From_ line (`user at host  Sun Nov 14 21:29:28 2015`), UTC."""
    match = _UNIXFROM.search(unixfrom)
    if match is None:
        return None
    month = _MONTHS[match.group(1).lower()]
    try:
        when = datetime(
            int(match.group(6)),
            month,
            int(match.group(2)),
            int(match.group(3)),
            int(match.group(4)),
            min(int(match.group(5) or 0), 59),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if when.timestamp() == 0:  # placeholder written by converters for "no date"
        return None
    return when


def _received_date(received: list[str]) -> datetime | None:
    newest: datetime | None = None
    for value in received:
        _, sep, stamp = value.rpartition(";")
        if not sep:
            continue
        when, _, absurd = header_date(stamp.strip())
        if when is None or absurd or not _sane(when):
            continue
        if newest is None or when > newest:
            newest = when
    return newest


def resolve_date(date_header: str, unixfrom: str, received: list[str]) -> DateResult:
    """Pick the message date; see the module docstring for the rules."""
    flags: list[str] = []
    when, offset, absurd = header_date(date_header.strip()) if date_header else (None, None, False)
    if when is not None and not absurd and _sane(when):
        return DateResult(when, offset, "header", (), when)
    if absurd:
        flags.append("date-absurd-offset")
    elif when is not None:
        flags.append("date-out-of-range")
    elif date_header.strip():
        flags.append("date-unparseable")
    else:
        flags.append("date-missing-header")
    fallback = unixfrom_date(unixfrom) if unixfrom else None
    if fallback is not None and _sane(fallback):
        flags.append("date-from-unixfrom")
        return DateResult(fallback, None, "unixfrom", tuple(flags), when)
    fallback = _received_date(received) if received else None
    if fallback is not None:
        flags.append("date-from-received")
        return DateResult(fallback, None, "received", tuple(flags), when)
    if absurd and when is not None and _sane(when):
        return DateResult(when, None, "header", tuple(flags), when)
    flags.append("date-missing")
    return DateResult(None, None, "none", tuple(flags), when)
