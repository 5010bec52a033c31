"""After a sync the scheduler prepares only the `web.prepared_meetings` most recent meetings'
pages (issue 14, review FX 3: each costs 1.2-1.5 s CPU at 300k messages, every meeting's was
prepared after every sync) and logs how many; an older meeting's page is computed on its
first visit as before."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

from config.settings import load_settings
from store import meetings
from store.store import Store
from tests.webui.test_kept_pages import MEETING, NAMES, data  # noqa: F401 (fixture)
from webui import create_app, stats_prepare

DATES = {"old-call": "2001-01-01", "mid-call": "2003-06-01", "new-call": "2005-03-01"}


def _app(where: Path, prepared: int) -> Flask:
    settings = {"data_dir": where, "web.prepared_meetings": prepared}
    app = create_app(load_settings(env={}, overrides=settings))
    app.config["STATS_FIGURE_CACHE"] = True
    return app


def _asked(where: Path, prepared: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The meeting pages `prepare` asks with `web.prepared_meetings` = `prepared`."""
    asked: list[str] = []
    real = stats_prepare._get

    def recording(app: Flask, url: str, *, facilitator: bool) -> int:
        asked.append(url)
        return real(app, url, facilitator=facilitator)

    monkeypatch.setattr(stats_prepare, "_get", recording)
    answered = stats_prepare.prepare(_app(where, prepared))
    shown = [u for u in asked if u.startswith("/meetings/")]
    assert answered == len(stats_prepare.ANONYMOUS) + len(stats_prepare.FACILITATOR) + 2 + len(
        shown
    )
    return shown


def test_only_the_most_recent_meetings_are_prepared(
    data: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(data / "store.db")
    try:
        for name, day in DATES.items():
            meetings.import_meeting(store.conn, name, NAMES, date=day, community="kept-community")
        total = len(meetings.all_meetings(store.conn))
    finally:
        store.close()
    assert total == 4  # MEETING has no date: listed last
    with caplog.at_level(logging.INFO, logger="webui.stats_prepare"):
        assert _asked(data, 2, monkeypatch) == ["/meetings/new-call", "/meetings/mid-call"]
    assert "preparing 2 of 4 meetings' pages" in caplog.text
    assert _asked(data, 0, monkeypatch) == []
    every = _asked(data, 10, monkeypatch)
    assert every[:3] == ["/meetings/new-call", "/meetings/mid-call", "/meetings/old-call"]
    assert every[3:] == [f"/meetings/{MEETING}"]
