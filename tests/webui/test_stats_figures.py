"""Statistics figures kept in the store (`webui.stats_figures`, issue 14) are the frame-based
ones: on a copy of the web UI test store (real corpus mail), every dashboard, HTML and JSON,
answers the same with the store cache off (computed from the frame for the request), on and
empty (computed and kept) and on and filled (read back in a fresh application, with no frame
loaded); and after each change that alters a statistic (a sync of a new message, a merge, a
bot mark, a removal) the kept figures are not served: the answer is again the frame's."""

from __future__ import annotations

import mailbox
import re
import shutil
import sqlite3
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from analytics import bots as bot_scores
from analytics import facts, frame
from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import bots, merges, removals
from store.store import Store
from tests.support.stores import kept_figures
from tests.support.webauth import login
from tests.webui.conftest import PUBLIC
from webui import create_app, stats_figures, stats_prepare

CSRF = re.compile(rb'name="csrf_token" value="[^"]*"')
ANONYMOUS = (
    "/stats?scope=all",
    f"/stats?list={PUBLIC}&period=quarter",
    f"/stats?list={PUBLIC}&start=2002-01-01&end=2003-06-30&lapse_days=30",
    f"/stats?list={PUBLIC}&bots=include&period=year",
)
FACILITATOR = (
    "/stats?scope=all",
    "/stats?scope=all&start=2003-01-01",
    "/stats/people",
    f"/stats/people?list={PUBLIC}&start=2002-06-01&limit=7",
    "/stats/responses",
    "/stats/responses?period=year&limit=5",
    "/stats/network",
    "/stats/network?bots=include&limit=10",
    "/stats/cohorts",
    "/stats/cohorts?period=quarter&horizon=4&lapse_days=60",
    "/persons/suggestions",
    "/persons/bots",
)


def _forget_frames() -> None:
    """A fresh process: no frame or facts cached in this one."""
    with frame._LOCK:
        frame._CACHE.clear()
    facts.clear_cache()


def _app(data: Path, cache: bool) -> Flask:
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    app.config["STATS_FIGURE_CACHE"] = cache
    return app


def _answers(app: Flask, data: Path) -> dict[str, Any]:
    """Every dashboard's HTML (bytes) and JSON twin, anonymous and as a facilitator."""
    found: dict[str, Any] = {}
    anonymous = app.test_client()
    facilitator = app.test_client()
    login(facilitator, data, "facilitator", username="figures", create=False)
    for who, client, urls in (("a", anonymous, ANONYMOUS), ("f", facilitator, FACILITATOR)):
        for url in urls:
            page = client.get(url)
            path, _sep, query = url.partition("?")
            twin = client.get(f"{path}.json" + (f"?{query}" if query else ""))
            assert page.status_code == twin.status_code == 200, (who, url)
            html = CSRF.sub(b'name="csrf_token" value=""', page.get_data())  # per session
            found[f"{who} {url}"] = (html, twin.get_json())
    return found


def _same_three_ways(data: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The answers with the cache off, on (computed and kept) and on (read back), all equal;
    returns them."""
    _forget_frames()
    expected = _answers(_app(data, cache=False), data)
    _forget_frames()
    computed = _answers(_app(data, cache=True), data)
    assert kept_figures(data) > 0
    _forget_frames()
    with monkeypatch.context() as patched:

        def no_frame(*_args: Any) -> None:
            raise AssertionError("a kept figure was computed again")

        patched.setattr(stats_figures, "frame_of", no_frame)
        patched.setattr(bot_scores, "suggestions", no_frame)
        patched.setattr(merges, "suggestions", no_frame)
        read_back = _answers(_app(data, cache=True), data)
    for name, answer in expected.items():
        assert computed[name] == answer, f"{name}: computed with the cache on differs"
        assert read_back[name] == answer, f"{name}: read back from the store differs"
    return expected


@pytest.fixture()
def data(webui_data: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "data"
    shutil.copytree(webui_data, copy)
    login(_app(copy, cache=False).test_client(), copy, "facilitator", username="figures")
    yield copy
    _forget_frames()


def _new_reply(data: Path, conn: sqlite3.Connection) -> Path:
    """An mbox of one reply, by a new sender, an hour after a message of the public list."""
    key, message_id, subject, date = conn.execute(
        "SELECT m.key, m.message_id, m.subject, m.date FROM messages m "
        "JOIN memberships ms ON ms.message = m.id JOIN lists l ON l.id = ms.list "
        "WHERE l.name = ? AND m.date IS NOT NULL AND m.message_id != '' "
        "ORDER BY m.date LIMIT 1 OFFSET 40",
        (PUBLIC,),
    ).fetchone()
    reply = EmailMessage()
    reply["From"] = "Figures Tester <figures.tester@example.org>"
    reply["To"] = f"{PUBLIC}@example.org"
    reply["Subject"] = f"Re: {subject}"
    reply["Message-ID"] = "<stats-figures-new-reply@example.org>"
    reply["In-Reply-To"] = f"<{message_id.strip('<>')}>"
    reply["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000" if date is None else _later(int(date))
    reply.set_content(f"A reply to {key} that changes the statistics.\n")
    path = data.parent / "new.mbox"
    box = mailbox.mbox(path)
    box.add(reply)
    box.close()
    return path


def _later(ts: int) -> str:
    return formatdate(ts + 3600, usegmt=True)


def test_kept_figures_equal_the_frames_and_follow_every_change(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _same_three_ways(data, monkeypatch)
    store = Store(data / "store.db")
    try:
        conn = store.conn
        summary = sync_list(store, PUBLIC, MboxSource([str(_new_reply(data, conn))]), workers=1)
        assert summary.new_messages == 1, summary.as_dict()
    finally:
        store.close()
    synced = _same_three_ways(data, monkeypatch)
    assert synced["a /stats?scope=all"][1]["totals"] != before["a /stats?scope=all"][1]["totals"]

    store = Store(data / "store.db")
    try:
        conn = store.conn
        top = synced["f /stats/people"][1]["posters"]
        merges.merge(conn, top[0]["person"], [top[1]["person"]], "test")
    finally:
        store.close()
    merged = _same_three_ways(data, monkeypatch)
    assert merged["f /stats/people"][1]["posters"][0] != top[0]

    store = Store(data / "store.db")
    try:
        bots.mark(store.conn, merged["f /stats/people"][1]["posters"][0]["person"], "test")
    finally:
        store.close()
    marked = _same_three_ways(data, monkeypatch)
    assert marked["f /stats?scope=all"][1]["totals"] != merged["f /stats?scope=all"][1]["totals"]

    store = Store(data / "store.db")
    try:
        conn = store.conn
        thread = marked["f /stats?scope=all"][1]["threads_by_replies"][0]["thread"]
        keys = removals.keys_for_thread(conn, thread)
        removals.remove(conn, "thread", thread, keys, reason="test", actor="test")
    finally:
        store.close()
    assert kept_figures(data) == 0  # kept figures named the thread: they go with it, not later
    removed = _same_three_ways(data, monkeypatch)
    top_threads = removed["f /stats?scope=all"][1]["threads_by_replies"]
    assert thread not in {t["thread"] for t in top_threads}


def test_prepared_dashboards_are_served_without_computing(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sqlite3.connect(data / "store.db")
    with conn:
        conn.execute("DELETE FROM figure_cache")
    conn.close()
    _forget_frames()
    expected = _answers(_app(data, cache=False), data)
    _forget_frames()
    assert stats_prepare.prepare(_app(data, cache=True)) == len(stats_prepare.ANONYMOUS) + len(
        stats_prepare.FACILITATOR
    )
    _forget_frames()

    def no_frame(*_args: Any) -> None:
        raise AssertionError("a prepared figure was computed again")

    monkeypatch.setattr(stats_figures, "frame_of", no_frame)
    monkeypatch.setattr(bot_scores, "suggestions", no_frame)
    monkeypatch.setattr(merges, "suggestions", no_frame)
    app = _app(data, cache=True)
    anonymous, facilitator = app.test_client(), app.test_client()
    login(facilitator, data, "facilitator", username="figures", create=False)
    checks = [
        (anonymous, "/stats.json?scope=all", "a /stats?scope=all"),
        (facilitator, "/stats.json?scope=all", "f /stats?scope=all"),
        (facilitator, "/stats/people.json", "f /stats/people"),
        (facilitator, "/stats/responses.json", "f /stats/responses"),
        (facilitator, "/stats/network.json", "f /stats/network"),
        (facilitator, "/stats/cohorts.json", "f /stats/cohorts"),
        (facilitator, "/persons/suggestions.json", "f /persons/suggestions"),
        (facilitator, "/persons/bots.json", "f /persons/bots"),
    ]
    for client, url, name in checks:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.get_json() == expected[name][1], url
