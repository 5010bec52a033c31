"""Calendar periods (month, quarter, year, in UTC) as consecutive integers, so that "k periods
later" is `index + k`, and the span of periods a dashboard shows.

A period index is `year * 12 + month - 1` for months, `year * 4 + quarter - 1` for quarters and
`year` for years; labels are `2018-10`, `2018-Q4` and `2018`.
"""

from __future__ import annotations

import time
from calendar import timegm
from datetime import UTC, datetime

from analytics.frame import Frame

PERIODS = ("month", "quarter", "year")
_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


def check_period(period: str) -> str:
    if period not in _PER_YEAR:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return period


def index_of(ts: int, period: str) -> int:
    """The period (index) the UTC timestamp `ts` falls in."""
    tm = time.gmtime(ts)
    per_year = _PER_YEAR[period]
    return tm.tm_year * per_year + (tm.tm_mon - 1) * per_year // 12


def from_month(month: int, period: str) -> int:
    """The period index of a month index (`year * 12 + month - 1`)."""
    if period == "month":
        return month
    year, part = divmod(month, 12)
    return year * 4 + part // 3 if period == "quarter" else year


def label(index: int, period: str) -> str:
    per_year = _PER_YEAR[period]
    year, part = divmod(index, per_year)
    if period == "month":
        return f"{year:04d}-{part + 1:02d}"
    if period == "quarter":
        return f"{year:04d}-Q{part + 1}"
    return f"{year:04d}"


def start_ts(index: int, period: str) -> int:
    """Midnight UTC of the period's first day."""
    per_year = _PER_YEAR[period]
    year, part = divmod(index, per_year)
    return timegm((year, part * 12 // per_year + 1, 1, 0, 0, 0))


def end_ts(index: int, period: str) -> int:
    """Exclusive end: the start of the next period."""
    return start_ts(index + 1, period)


def first_day(index: int, period: str) -> str:
    return datetime.fromtimestamp(start_ts(index, period), UTC).date().isoformat()


def span(frame: Frame, period: str) -> range:
    """The periods a dashboard shows: from the window's start (or the scope's first post) to
    its end (or the last post), clipped to the scope's first and last posts, so that a window
    reaching past the archive adds no empty periods.  Empty when nothing is in that range."""
    dates = frame.date_range()  # not the posts: a frame from its snapshot has not made them
    if dates is None:
        return range(0)
    first, last = dates
    start, end = frame.scope.start_ts, frame.scope.end_ts
    low = max(first, start) if start is not None else first
    high = min(last, end - 1) if end is not None else last
    if low > high:
        return range(0)
    return range(index_of(low, period), index_of(high, period) + 1)


def iso(ts: int | None) -> str | None:
    """A timestamp as ISO 8601 UTC (`2018-10-16T19:07:13+00:00`)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat()


def day(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))
