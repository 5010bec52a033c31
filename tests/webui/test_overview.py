"""List and month overview, home sparklines (issue 13): thread tables with replies,
participants and last activity sorted by activity or date, periods grouped by year, and an
inline SVG of messages per month per list, all counted over what the viewer may read."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from store.overview import Monthly
from tests.support.webauth import login
from tests.webui.conftest import PRIVATE, PUBLIC
from tests.webui.test_pages import page
from tests.webui.test_visibility_walk import PUBLIC_LIST, Mixed, mixed  # noqa: F401 (fixture)
from webui import create_app
from webui.overview import sparkline


def _senders(db: sqlite3.Connection, thread_id: str, *, public_only: bool) -> int:
    extra = (
        " AND (SELECT min(l.private) FROM memberships ms JOIN lists l ON l.id = ms.list "
        "WHERE ms.message = m.id) = 0"
        if public_only
        else ""
    )
    return int(
        db.execute(
            "SELECT count(DISTINCT lower(coalesce(nullif(from_addr, ''), from_name))) "
            f"FROM messages m WHERE thread_id = ?{extra}",
            (thread_id,),
        ).fetchone()[0]
    )


def test_list_page_groups_periods_by_year(client: FlaskClient) -> None:
    text, data = page(client, f"/lists/{PUBLIC}/")
    years = data["years"]
    assert [y["year"] for y in years] == sorted((y["year"] for y in years), reverse=True)
    grouped = [p["name"] for y in years for p in y["periods"]]
    assert sorted(grouped) == sorted(p["name"] for p in data["periods"])
    by_name = {p["name"]: p for p in data["periods"]}
    for y in years:
        assert y["messages"] == sum(p["messages"] for p in y["periods"])
        for p in y["periods"]:
            assert by_name[p["name"]]["first_date"].startswith(y["year"])
            assert p["url"] == by_name[p["name"]]["url"]
        assert f'data-year="{y["year"]}"' in text
    assert text.count('<tr class="year"') == len(years) < len(data["periods"])
    assert "1999" in [y["year"] for y in years]
    y1999 = next(y for y in years if y["year"] == "1999")
    assert y1999["periods"][0]["label"] != "1999-August" or len(y1999["periods"]) == 1


def test_list_page_threads_sorted_by_activity_or_date(
    client: FlaskClient, db: sqlite3.Connection
) -> None:
    text, by_activity = page(client, f"/lists/{PUBLIC}/")
    assert by_activity["sort"] == "activity"
    # the scoped count is labelled as such: Replies and Participants are of the whole thread
    # (a thread with 4 messages in the window and 5 replies in all read as a contradiction)
    assert '<th scope="col" class="count">In these 30 days</th>' in text
    active = by_activity["active_threads"]
    assert active, "the list's last 30 days of activity hold threads"
    counts = [t["in_scope"] for t in active]
    assert counts == sorted(counts, reverse=True)
    since = by_activity["active_since"]
    last = by_activity["list"]["last_date"]
    assert since < last and since[:7] <= last[:7]
    for t in active:
        assert t["last_date"] >= since
        assert t["replies"] == t["messages"] - 1
        assert t["participants"] == _senders(db, t["thread_id"], public_only=True)
    text, by_date = page(client, f"/lists/{PUBLIC}/?sort=date")
    dates = [t["last_date"] for t in by_date["active_threads"]]
    assert dates == sorted(dates, reverse=True)
    assert {t["thread_id"] for t in by_date["active_threads"]} <= {
        str(r[0])
        for r in db.execute(
            "SELECT m.thread_id FROM messages m WHERE m.date >= strftime('%s', ?)",
            (since[:19],),
        )
    }
    assert 'href="/lists/reality/?sort=activity"' in text and 'data-sort="date"' in text
    newest = by_date["newest_threads"]
    firsts = [t["first_date"] for t in newest]
    assert newest and firsts == sorted(firsts, reverse=True)
    assert client.get(f"/lists/{PUBLIC}/?sort=nonsense").status_code == 400


def test_period_page_threads(client: FlaskClient, db: sqlite3.Connection) -> None:
    text, data = page(client, f"/lists/{PUBLIC}/1999-August/")
    threads = data["threads"]
    threaded = Counter(m["thread_id"] for m in data["messages"] if m["thread_id"])
    assert {t["thread_id"]: t["in_scope"] for t in threads} == dict(threaded)
    assert [t["last_date"] for t in threads] == sorted(
        (t["last_date"] for t in threads), reverse=True
    ), "by date by default"
    for t in threads:
        assert f'data-thread="{t["thread_id"]}"' in text
    _, busy = page(client, f"/lists/{PUBLIC}/1999-August/?sort=activity")
    assert [t["in_scope"] for t in busy["threads"]] == sorted(threaded.values(), reverse=True)


def test_home_sparklines(client: FlaskClient, db: sqlite3.Connection) -> None:
    text, data = page(client, "/")
    (reality,) = data["lists"]
    spark = reality["sparkline"]
    dated = db.execute(
        "SELECT count(*), strftime('%Y-%m', min(m.date), 'unixepoch'), "
        "strftime('%Y-%m', max(m.date), 'unixepoch') FROM memberships ms "
        "JOIN lists l ON l.id = ms.list JOIN messages m ON m.id = ms.message "
        "WHERE l.name = ? AND m.date IS NOT NULL",
        (PUBLIC,),
    ).fetchone()
    assert sum(spark["counts"]) == dated[0] and (spark["first"], spark["last"]) == dated[1:]
    y0, m0 = map(int, dated[1].split("-"))
    y1, m1 = map(int, dated[2].split("-"))
    assert len(spark["counts"]) == (y1 - y0) * 12 + m1 - m0 + 1
    mean = dated[0] / len(spark["counts"])
    assert mean < 10, "the fixture list is a quiet one: the mean has a decimal"
    shown = f"{mean:.1f}".removesuffix(".0")
    assert spark["label"] == f"{shown} messages per month, {y0}–{y1}"
    svg = re.search(r'<svg class="sparkline" role="img" aria-label="([^"]+)"', text)
    assert svg and svg.group(1) == spark["label"]
    assert f"<title>{spark['label']}</title>" in text
    assert len(re.search(r'points="([^"]+)"', text).group(1).split()) == len(spark["counts"])  # type: ignore[union-attr]
    assert "<script" not in text.split("<main")[-1].split("</main>")[0]


def test_private_list_overview_for_accounts_only(app: Flask, client: FlaskClient) -> None:
    assert client.get(f"/lists/{PRIVATE}/").status_code == 404
    login(client, app)
    _, home = page(client, "/")
    assert {item["name"] for item in home["lists"]} == {PUBLIC, PRIVATE}
    assert all(item["sparkline"] for item in home["lists"])
    _, data = page(client, f"/lists/{PRIVATE}/")
    assert data["active_threads"] and data["newest_threads"]


# -- a thread mixing private and public messages (the store of test_visibility_walk) ----------


@pytest.fixture()
def mixed_client(mixed: Mixed) -> FlaskClient:  # noqa: F811 (the imported fixture)
    app = create_app(load_settings(env={}, overrides={"data_dir": mixed.data}))
    return app.test_client()


def test_mixed_thread_counts_are_of_its_visible_messages(
    mixed: Mixed,  # noqa: F811 (the imported fixture)
    mixed_client: FlaskClient,
) -> None:
    thread_id = mixed.threads["mixed"]
    _, listing = page(mixed_client, f"/lists/{PUBLIC_LIST}/")
    rows = {t["thread_id"]: t for t in listing["active_threads"]}
    assert set(rows) == {thread_id, mixed.threads["public"]}
    seen = rows[thread_id]
    assert seen["subject"] == "Budget review for everyone"
    assert (seen["messages"], seen["replies"], seen["participants"]) == (3, 2, 2)
    assert seen["first_date"].startswith("2020-03-15")
    newest = [t["thread_id"] for t in listing["newest_threads"]]
    assert newest == [mixed.threads["public"], thread_id]
    (period,) = listing["periods"]
    _, month = page(mixed_client, period["url"])
    assert {t["thread_id"]: t["in_scope"] for t in month["threads"]} == {
        thread_id: 3,
        mixed.threads["public"]: 2,
    }
    _, home = page(mixed_client, "/")
    (only,) = home["lists"]
    assert only["sparkline"]["counts"] == [5] and only["sparkline"]["first"] == "2020-03"

    app = mixed_client.application
    login(mixed_client, app)
    _, listing = page(mixed_client, f"/lists/{PUBLIC_LIST}/")
    whole = {t["thread_id"]: t for t in listing["active_threads"]}[thread_id]
    assert (whole["messages"], whole["participants"]) == (5, 4)
    assert whole["in_scope"] == 3, "three of its messages are on the public list"


def test_sparkline_of_one_month_and_of_a_busy_list() -> None:
    one = sparkline(Monthly("2020-03", "2020-03", (5,)))
    assert one is not None and one["label"] == "5 messages per month, 2020"
    assert len(one["points"].split()) == 2, "one month is a flat line across the box"
    busy = sparkline(Monthly("2019-11", "2020-02", (1200, 0, 30, 10)))
    assert busy is not None and busy["label"] == "310 messages per month, 2019–2020"
    ys = [float(p.split(",")[1]) for p in busy["points"].split()]
    assert ys[0] == min(ys) and ys[1] == max(ys), "the busiest month is the highest point"
    assert sparkline(None) is None
