"""mbox and CSV exports: streamed, from the original bytes, mboxrd-escaped, and read back by
our own mbox source into the same message keys."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from flask.testing import FlaskClient

from ingest.mboxsplit import split_mbox
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.webui.conftest import PRIVATE
from webui.exports import CSV_COLUMNS, Envelope, from_line, mboxrd_entry


def _mbox(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.data
    assert response.is_streamed and response.mimetype == "application/mbox"
    assert "attachment" in response.headers["Content-Disposition"]
    return response.get_data()


def _reimport(mbox: bytes, tmp_path: Path) -> set[str]:
    path = tmp_path / "export.mbox"
    path.write_bytes(mbox)
    store = Store(tmp_path / "fresh" / "store.db")
    store.add_list("fresh", "mbox", paths=[str(path)])
    summary = sync_list(store, "fresh", MboxSource([str(path)]), workers=1)
    keys = {r[0] for r in store.conn.execute("SELECT key FROM messages")}
    store.close()
    assert summary.error is None or summary.error == ""
    return keys


PUBLIC = (
    "EXISTS (SELECT 1 FROM memberships ms JOIN lists l ON l.id = ms.list "
    "WHERE ms.message = m.id AND l.private = 0)"
)


def _rows(data: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(data / "store.db")
    rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


def test_thread_mbox_round_trips(client: FlaskClient, webui_data: Path, tmp_path: Path) -> None:
    thread_id, count = _rows(
        webui_data,
        "SELECT thread_id, count(*) FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE l.name = 'reality' "
        "GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1",
    )[0]
    assert isinstance(count, int) and count > 3
    keys = {
        r[0]
        for r in _rows(
            webui_data, f"SELECT key FROM messages m WHERE thread_id = ? AND {PUBLIC}", thread_id
        )
    }
    mbox = _mbox(client, f"/threads/{thread_id}.mbox")
    assert len(list(split_mbox(mbox))) == len(keys)
    assert _reimport(mbox, tmp_path) == keys


def test_exports_are_the_original_bytes(client: FlaskClient, webui_data: Path) -> None:
    store = Store(webui_data / "store.db", readonly=True)
    key, thread_id = _rows(webui_data, "SELECT key, thread_id FROM messages LIMIT 1")[0]
    raw = store.raw_bytes(str(key))
    store.close()
    assert raw is not None
    mbox = _mbox(client, f"/threads/{thread_id}.mbox")
    assert any(body == raw.rstrip(b"\n") + b"\n" or body == raw for _, body in split_mbox(mbox))


def test_period_mbox_round_trips(client: FlaskClient, webui_data: Path, tmp_path: Path) -> None:
    origin, count = _rows(
        webui_data,
        "SELECT origin, count(*) FROM memberships ms JOIN lists l ON l.id = ms.list "
        "WHERE l.name = 'reality' GROUP BY origin ORDER BY count(*) DESC LIMIT 1",
    )[0]
    keys = {
        r[0]
        for r in _rows(
            webui_data,
            "SELECT m.key FROM messages m JOIN memberships ms ON ms.message = m.id "
            "JOIN lists l ON l.id = ms.list WHERE l.name = 'reality' AND ms.origin = ?",
            origin,
        )
    }
    assert len(keys) == count
    period = str(origin).removesuffix(".txt.gz")
    assert _reimport(_mbox(client, f"/lists/reality/{period}.mbox"), tmp_path) == keys


def test_search_mbox_exports_every_match(client: FlaskClient, tmp_path: Path) -> None:
    total = client.get("/search.json?q=list:reality").get_json()["total"]
    assert total > 200  # more than one backend page (BATCH) is read
    mbox = _mbox(client, "/search.mbox?q=list:reality&sort=date_asc")
    keys = _reimport(mbox, tmp_path)
    assert len(keys) == total
    csv_ids = {row["id"] for row in _csv(client, "/search.csv?q=list:reality")}
    assert keys == csv_ids


def _csv(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return rows


def test_search_csv(client: FlaskClient) -> None:
    first = client.get("/search.json?q=reality&sort=date").get_json()
    rows = _csv(client, "/search.csv?q=reality&sort=date")
    assert len(rows) == first["total"] > 20
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["id"] for r in rows[:20]] == [h["id"] for h in first["hits"]]
    top = rows[0]
    assert top["permalink"] == f"/messages/{top['id']}"  # site-relative without web.base_url
    assert top["thread"] == first["hits"][0]["thread_id"] and top["lists"] == "reality"
    assert all("@" not in r["from"] for r in rows)
    assert datetime.fromisoformat(top["date"]).tzinfo is not None


def test_mboxrd_escaping_round_trips() -> None:
    raw = (
        b"From: a@example.org\nSubject: s\nMessage-ID: <1@x>\n\n"
        b"From here on\n>From there\n>>From far\nFrom x Thu May  1 17:51:24 2008\n"
        b"To: looks-like-a-header\nnot From at start\n"
    )
    envelope = Envelope("k", "a@example.org", datetime(2008, 5, 1, 17, 51, 24, tzinfo=UTC))
    entry = mboxrd_entry(envelope, raw)
    assert entry.startswith(b"From a@example.org Thu May  1 17:51:24 2008\n")
    assert b"\n>From here on\n>>From there\n>>>From far\n>From x Thu" in entry
    two = entry + mboxrd_entry(envelope, raw.replace(b"<1@x>", b"<2@x>"))
    assert [body for _, body in split_mbox(two)] == [raw, raw.replace(b"<1@x>", b"<2@x>")]


def test_from_line_fallbacks() -> None:
    assert from_line(Envelope("k", "", None)) == b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n"
    assert from_line(Envelope("k", "a b@c", None)).startswith(b"From MAILER-DAEMON ")


def test_private_and_unknown_are_404(client: FlaskClient, webui_data: Path) -> None:
    private_thread = _rows(
        webui_data,
        f"SELECT m.thread_id FROM messages m GROUP BY m.thread_id HAVING max({PUBLIC}) = 0",
    )[0][0]
    assert client.get(f"/threads/{private_thread}.mbox").status_code == 404
    origin = _rows(
        webui_data,
        "SELECT origin FROM memberships ms JOIN lists l ON l.id = ms.list WHERE l.name = ? LIMIT 1",
        PRIVATE,
    )[0][0]
    period = str(origin).removesuffix(".txt.gz")
    assert client.get(f"/lists/{PRIVATE}/{period}.mbox").status_code == 404
    assert client.get("/lists/reality/1970-January.mbox").status_code == 404
    assert client.get("/threads/tnope.mbox").status_code == 404
    missing = client.get("/lists/nope/2001-May.mbox")
    assert missing.status_code == 404 and b"Traceback" not in missing.data


def test_bad_export_queries_are_400(client: FlaskClient) -> None:
    for url in ('/search.csv?q="open', "/search.mbox", "/search.mbox?q=x&sort=nope"):
        response = client.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 400, url
        assert response.get_json()["error"]["message"]
