"""/stats formats its per-period, per-hour and busiest-day cells inline (issue 14, task FX:
no macro call a cell); each must read as `_stats.html`'s `num`, `share` and `hours` macros
write the same value."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webui.test_stats_pages import Tables
from webui import stats_figures, stats_pages

VALUES: list[Any] = [None, 0, 7, 1234, 1234567, 0.5]
HOURS: list[Any] = [None, 0.04, 5.0, 47.95, 48.0, 1000.25]
SHARES: list[Any] = [None, 0.0, 0.1234, 1.0]


def _macro(app: Flask, name: str, value: Any) -> str:
    with app.app_context():
        template = app.jinja_env.from_string(
            '{% from "_stats.html" import num, share, hours %}{{ ' + name + "(value) }}"
        )
        return template.render(value=value)


def _bent(data: dict[str, Any]) -> dict[str, Any]:
    """The page's figures with odd values in every formatted cell of the row tables."""
    data = copy.deepcopy(data)
    for table in ("activity", "cohorts", "responses_by_period", "weekdays", "hours", "days"):
        name = "busiest_days" if table == "days" else table
        for i, row in enumerate(data.get(name) or []):
            for key in list(row):
                if key in ("median_hours", "p90_hours"):
                    row[key] = HOURS[i % len(HOURS)]
                elif key == "share":
                    row[key] = SHARES[i % len(SHARES)]
                elif key not in ("period", "day", "name", "weekday", "hour"):
                    row[key] = VALUES[(i + len(key)) % len(VALUES)]
    return data


def test_cells_read_as_the_macros_write(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = stats_figures.figures  # what stats_pages calls, imported from there
    monkeypatch.setattr(stats_pages, "figures", lambda *a: _bent(real(*a)))
    page = client.get("/stats?period=month")
    assert page.status_code == 200
    parsed = Tables()
    parsed.feed(page.get_data(as_text=True))
    checked = 0
    columns = {
        "activity": ("messages", "threads_started", "threads_active", "participants", "newcomers"),
        "cohorts": ("active", "newcomers", "returning", "lapsed"),
        "responses-by-period": ("threads", "answered", "share", "median_hours", "p90_hours"),
        "days": ("messages", "threads", "participants"),
        "hours": ("messages",),
    }
    for table, names in columns.items():
        rows = parsed.tables[table][1:]  # the header row first
        assert len(rows) >= 2, table
        for i, (_attrs, cells) in enumerate(rows):
            for name, cell in zip(names, cells[1:], strict=True):
                if name in ("median_hours", "p90_hours"):
                    want = _macro(app, "hours", HOURS[i % len(HOURS)])
                elif name == "share":
                    want = _macro(app, "share", SHARES[i % len(SHARES)])
                else:
                    want = _macro(app, "num", VALUES[(i + len(name)) % len(VALUES)])
                assert cell == want, (table, i, name)
                checked += 1
    weekdays = [cells for _attrs, cells in parsed.tables["weekdays"] if cells][-1]
    for i, cell in enumerate(weekdays):
        assert cell == _macro(app, "num", VALUES[(i + len("messages")) % len(VALUES)])
    assert checked > 20
