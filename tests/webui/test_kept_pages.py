"""The person directory and a meeting's name suggestions kept in the store
(`webui.stats_figures.person_rows`, `meeting_suggestions`, issue 14) are the computed ones: on
a copy of the web UI test store (real corpus mail) with a meeting of a community, the
directory (a page, a search, a meeting's look-up) and the meeting's page, HTML, JSON and CSV,
answer the same with the store cache off, on and empty (computed and kept) and on and filled
(read back in a fresh application, with the computation made to fail); and after each change
they depend on (a sync of a new sender, a merge, a confirmed participant, a list joining the
community, a removal) the kept answers are not served: they are again the computed ones.
The scheduler's preparation (`webui.stats_prepare`) keeps them before the first visitor."""

from __future__ import annotations

import mailbox
import re
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from analytics import attendance
from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import communities, meetings, merges, persons, removals
from store.store import Store
from tests.support.stores import kept_figures
from tests.support.webauth import login
from tests.webui.conftest import PRIVATE, PUBLIC
from webui import create_app, stats_prepare

CSRF = re.compile(rb'name="csrf_token" value="[^"]*"')
MEETING = "kept-call"
NAMES = [
    "Glyph Lefkowitz",  # several persons of that name: suggested, same name
    "Christopher Armstrong",  # several persons too
    "James Knight",  # matched at import
    "C. Armstrong",  # initials
    "Dartt",  # one word: a surname
    "Figures Newcomer",  # nobody yet: a sync brings them
    "Nobody Known Here",
]
URLS = (
    f"/meetings/{MEETING}",
    f"/meetings/{MEETING}?days=30",
    f"/meetings/{MEETING}?find=2&q=armstrong",
    "/persons",
    "/persons?q=glyph",
    "/persons?page=2",
)


def _app(data: Path, cache: bool) -> Flask:
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    app.config["STATS_FIGURE_CACHE"] = cache
    return app


def _answers(app: Flask, data: Path, urls: tuple[str, ...] = URLS) -> dict[str, Any]:
    """Each page's HTML (bytes), JSON twin and CSV (bytes), as the facilitator `kept`."""
    client = app.test_client()
    login(client, data, "facilitator", username="kept", create=False)
    found: dict[str, Any] = {}
    for url in urls:
        path, _sep, query = url.partition("?")
        tail = f"?{query}" if query else ""
        page, twin, csv = (client.get(f"{path}{ext}{tail}") for ext in ("", ".json", ".csv"))
        assert page.status_code == twin.status_code == csv.status_code == 200, url
        html = CSRF.sub(b'name="csrf_token" value=""', page.get_data())
        found[url] = (html, twin.get_json(), csv.get_data())
    return found


def _fail(*_args: Any) -> None:
    raise AssertionError("a kept answer was computed again")


def _same_three_ways(data: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The answers with the cache off, on (computed and kept) and on (read back), all equal;
    returns them."""
    expected = _answers(_app(data, cache=False), data)
    computed = _answers(_app(data, cache=True), data)
    assert kept_figures(data) > 0
    with monkeypatch.context() as patched:
        patched.setattr(attendance, "suggestions", _fail)
        patched.setattr(persons, "person_rows", _fail)
        read_back = _answers(_app(data, cache=True), data)
    for url, answer in expected.items():
        assert computed[url] == answer, f"{url}: computed with the cache on differs"
        assert read_back[url] == answer, f"{url}: read back from the store differs"
    return expected


def _change(data: Path, action: Any) -> None:
    store = Store(data / "store.db")
    try:
        action(store)
    finally:
        store.close()


@pytest.fixture()
def data(webui_data: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "data"
    shutil.copytree(webui_data, copy)
    login(_app(copy, cache=False).test_client(), copy, "facilitator", username="kept")
    store = Store(copy / "store.db")
    try:
        communities.upsert(store.conn, "kept-community", [PUBLIC])
        meetings.import_meeting(store.conn, MEETING, NAMES, community="kept-community")
    finally:
        store.close()
    yield copy


def _participant(answer: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in answer["participants"] if p["name"] == name)
    return found


def _newcomer(data: Path) -> Path:
    message = EmailMessage()
    message["From"] = "Figures Newcomer <figures.newcomer@example.org>"
    message["To"] = f"{PUBLIC}@example.org"
    message["Subject"] = "A newcomer's first post"
    message["Message-ID"] = "<kept-pages-newcomer@example.org>"
    message["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000"
    message.set_content("Hello, lists.\n")
    path = data.parent / "newcomer.mbox"
    box = mailbox.mbox(path)
    box.add(message)
    box.close()
    return path


def test_kept_directory_and_meeting_suggestions_follow_every_change(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = f"/meetings/{MEETING}"
    before = _same_three_ways(data, monkeypatch)
    graded = {p["name"]: p["match"] for p in before[meeting][1]["participants"]}
    assert graded == {
        "Glyph Lefkowitz": "suggested",
        "Christopher Armstrong": "suggested",
        "James Knight": "matched",
        "C. Armstrong": "suggested",
        "Dartt": "suggested",
        "Figures Newcomer": "none",
        "Nobody Known Here": "none",
    }
    assert len(_participant(before[meeting][1], "Glyph Lefkowitz")["suggestions"]) > 1
    assert before[f"{meeting}?find=2&q=armstrong"][1]["lookup"]["persons"]

    def sync_newcomer(store: Store) -> None:
        summary = sync_list(store, PUBLIC, MboxSource([str(_newcomer(data))]), workers=1)
        assert summary.new_messages == 1, summary.as_dict()

    _change(data, sync_newcomer)
    synced = _same_three_ways(data, monkeypatch)
    newcomer = _participant(synced[meeting][1], "Figures Newcomer")
    assert [s["name"] for s in newcomer["suggestions"]] == ["Figures Newcomer"]
    assert synced["/persons"][1]["total"] == before["/persons"][1]["total"] + 1

    glyphs = [p["key"] for p in synced["/persons?q=glyph"][1]["persons"]]
    assert len(glyphs) > 1
    _change(data, lambda store: merges.merge(store.conn, glyphs[0], glyphs[1:], "test"))
    merged = _same_three_ways(data, monkeypatch)
    assert len(merged["/persons?q=glyph"][1]["persons"]) == 1
    assert _participant(merged[meeting][1], "Glyph Lefkowitz")["match"] == "suggested"

    dartt = _participant(merged[meeting][1], "Dartt")["suggestions"][0]["key"]
    _change(data, lambda store: meetings.confirm(store.conn, MEETING, "Dartt", dartt, "test"))
    confirmed = _same_three_ways(data, monkeypatch)
    assert _participant(confirmed[meeting][1], "Dartt")["match"] == "confirmed"

    def join_private(store: Store) -> None:
        communities.upsert(store.conn, "kept-community", [PUBLIC, PRIVATE])

    _change(data, join_private)  # the community's persons (ranked first) are more now
    _same_three_ways(data, monkeypatch)

    def remove_newcomer(store: Store) -> None:
        keys = [
            str(r[0])
            for r in store.conn.execute(
                "SELECT key FROM messages WHERE message_id LIKE '%kept-pages-newcomer%'"
            )
        ]
        assert len(keys) == 1
        removals.remove(store.conn, "message", keys[0], keys, reason="test", actor="test")

    _change(data, remove_newcomer)
    assert kept_figures(data) == 0
    removed = _same_three_ways(data, monkeypatch)
    assert removed["/persons"][1]["total"] == confirmed["/persons"][1]["total"] - 1


def test_prepared_directory_and_meetings_are_served_without_computing(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(_app(data, cache=False), data)
    asked = len(stats_prepare.ANONYMOUS) + len(stats_prepare.FACILITATOR)
    asked += 2 + 1  # the community's /stats as each reader, the meeting's page
    assert stats_prepare.prepare(_app(data, cache=True)) == asked
    monkeypatch.setattr(attendance, "suggestions", _fail)
    monkeypatch.setattr(persons, "person_rows", _fail)
    answers = _answers(_app(data, cache=True), data)
    for url in (f"/meetings/{MEETING}", "/persons", "/persons?q=glyph"):
        assert answers[url] == expected[url], url
