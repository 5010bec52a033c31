"""The overview parts of the home, list and period pages (issue 13): thread tables sortable by
activity or date (plain links, no script), a list's periods grouped by year, and the home
page's activity sparklines (inline SVG drawn here from monthly counts, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort, request, url_for

from store.overview import SORTS, Monthly, ThreadRow
from store.queries import PeriodSummary
from webui.obfuscate import obfuscate_text
from webui.views import iso

SPARK_WIDTH, SPARK_HEIGHT = 120, 24


def sort_arg(default: str) -> str:
    """`?sort=activity|date` (400 for anything else)."""
    sort = request.args.get("sort", default)
    if sort not in SORTS:
        abort(400, f"sort must be one of {', '.join(SORTS)}")
    return sort


def sort_links(endpoint: str, current: str, **values: Any) -> list[dict[str, Any]]:
    """The sort toggle: one link per order, the current one marked."""
    return [
        {
            "sort": sort,
            "label": "most active" if sort == "activity" else "latest activity",
            "url": url_for(endpoint, sort=sort, **values),
            "current": sort == current,
        }
        for sort in SORTS
    ]


def thread_row(row: ThreadRow) -> dict[str, Any]:
    t = row.thread
    return {
        "thread_id": t.thread_id,
        "subject": obfuscate_text(t.subject),
        "url": url_for("pages.thread", thread_id=t.thread_id),
        "messages": t.message_count,
        "replies": max(t.message_count - 1, 0),
        "participants": row.participants,
        "in_scope": row.in_scope,
        "first_date": iso(t.first_date),
        "last_date": iso(t.last_date),
    }


def thread_rows(rows: Sequence[ThreadRow]) -> list[dict[str, Any]]:
    return [thread_row(r) for r in rows]


def _month_label(name: str, year: str) -> str:
    prefix = f"{year}-"
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name


def years(name: str, periods: Sequence[PeriodSummary]) -> list[dict[str, Any]]:
    """`periods` (newest first) grouped by the year of their first message, newest year
    first, each year's months in calendar order; undated periods in a last group."""
    groups: dict[str, list[PeriodSummary]] = {}
    for p in periods:
        groups.setdefault(str(p.first_date.year) if p.first_date else "undated", []).append(p)
    return [
        {
            "year": year,
            "messages": sum(p.messages for p in members),
            "periods": [
                {
                    "name": p.name,
                    "label": _month_label(p.name, year),
                    "messages": p.messages,
                    "url": url_for("pages.period", name=name, period=p.name),
                }
                for p in reversed(members)
            ],
        }
        for year, members in groups.items()
    ]


def sparkline(monthly: Monthly | None) -> dict[str, Any] | None:
    """A list's messages per month as SVG polyline points, with its accessible label."""
    if monthly is None or not monthly.counts:
        return None
    counts = monthly.counts
    top = max(counts) or 1
    step = SPARK_WIDTH / max(len(counts) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (c / top) * (SPARK_HEIGHT - 2):.1f}"
        for i, c in enumerate(counts)
    )
    if len(counts) == 1:
        points += f" {SPARK_WIDTH:.1f},{points.split(',')[1]}"
    mean = sum(counts) / len(counts)
    per_month = f"{mean:,.0f}" if mean >= 10 else f"{mean:.1f}".removesuffix(".0")
    first, last = monthly.first[:4], monthly.last[:4]
    span = first if first == last else f"{first}–{last}"
    return {
        "first": monthly.first,
        "last": monthly.last,
        "counts": list(counts),
        "label": f"{per_month} messages per month, {span}",
        "points": points,
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
    }
