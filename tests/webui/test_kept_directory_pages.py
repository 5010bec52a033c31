"""Visits to `/persons?page=N` keep only the first directory pages that exist (issue 14,
review FX 2): a page past the end is empty (200, like before, its JSON twin too) and keeps
nothing; a later page that exists is answered from the kept rows without an entry of its own.
Otherwise ~500 visits to distinct pages pushed the dashboards' figures out of the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store import persons
from tests.support.stores import kept_figures
from tests.support.webauth import login
from tests.webui.test_kept_pages import _app, _fail, data  # noqa: F401 (fixture)
from webui import person_pages, stats_figures

PAGE = 10


def _pages(where: Path, cache: bool, pages: range) -> dict[int, Any]:
    client = _app(where, cache).test_client()
    login(client, where, "facilitator", username="kept", create=False)
    found: dict[int, Any] = {}
    for page in pages:
        html, twin = (client.get(f"/persons{ext}?page={page}") for ext in ("", ".json"))
        assert html.status_code == twin.status_code == 200, page
        found[page] = twin.get_json()
    return found


def test_distinct_pages_keep_a_bounded_number_of_entries(
    data: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(person_pages, "PAGE", PAGE)  # the fixture has 48 persons
    monkeypatch.setattr(stats_figures, "KEPT_ROWS", 2 * PAGE)
    expected = _pages(data, False, range(1, 40))
    total = expected[1]["total"]
    assert total > 2 * PAGE, "the fixture needs more than two pages of persons"
    last = (total - 1) // PAGE + 1
    before = kept_figures(data)
    computed = _pages(data, True, range(1, 40))
    # the person rows, pages 1 and 2: not one entry per page visited
    assert kept_figures(data) - before == 3
    assert computed == expected
    for page, answer in expected.items():
        assert answer["total"] == total and answer["page"] == page
        assert bool(answer["persons"]) == (page <= last), page
    monkeypatch.setattr(persons, "person_rows", _fail)  # past the end: nothing read but page 1
    assert _pages(data, True, range(last + 1, last + 30)) == {
        p: expected[p] for p in range(last + 1, last + 30)
    }
    assert _pages(data, True, range(10**6, 10**6 + 1))[10**6]["persons"] == []
    assert kept_figures(data) - before == 3
