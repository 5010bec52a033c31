"""periods: indexes, labels and bounds of months, quarters and years (UTC)."""

from __future__ import annotations

import pytest

from analytics import periods
from tests.analytics.framekit import ts


@pytest.mark.parametrize(
    ("when", "period", "label", "first_day", "next_start"),
    [
        ("2018-10-31T23:59", "month", "2018-10", "2018-10-01", "2018-11-01"),
        ("2018-12-31T23:59", "month", "2018-12", "2018-12-01", "2019-01-01"),
        ("2018-11-15T00:00", "quarter", "2018-Q4", "2018-10-01", "2019-01-01"),
        ("2018-04-01T00:00", "quarter", "2018-Q2", "2018-04-01", "2018-07-01"),
        ("2018-06-30T12:00", "year", "2018", "2018-01-01", "2019-01-01"),
    ],
)
def test_period_bounds(when: str, period: str, label: str, first_day: str, next_start: str) -> None:
    index = periods.index_of(ts(when), period)
    assert periods.label(index, period) == label
    assert periods.first_day(index, period) == first_day
    assert periods.end_ts(index, period) == ts(next_start)
    assert periods.start_ts(index, period) <= ts(when) < periods.end_ts(index, period)


def test_from_month() -> None:
    month = periods.index_of(ts("2018-11-15T00:00"), "month")
    assert periods.from_month(month, "month") == month
    assert periods.label(periods.from_month(month, "quarter"), "quarter") == "2018-Q4"
    assert periods.from_month(month, "year") == 2018


def test_check_period() -> None:
    assert periods.check_period("quarter") == "quarter"
    with pytest.raises(ValueError, match="month, quarter, year"):
        periods.check_period("week")
