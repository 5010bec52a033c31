"""The secretariat's operations pages: the runs history with failing lists, one run, the
quarantine and a bounded, escaped view of one quarantined message (issue 12).  Access by role
(anonymous 302/401, facilitator 403), JSON and CSV twins, the same data as `listarchive runs
--json` and `listarchive quarantine --json`."""

from __future__ import annotations

import csv
import io
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from config.settings import load_settings
from listarchive.cli import cli
from store import runs
from store.records import Quarantined, VolumeState
from store.store import Store
from tests.support.webauth import login
from webui import create_app

VIEW_BYTES = 1024
HOSTILE = (
    b"From: <script>alert('from')</script>\nSubject: =?bogus?= \xff\xfe\n\n"
    b"<html><body><script>alert(document.cookie)</script><img src=x onerror=alert(1)>"
    b"\x00\x80\x81 not utf-8 \xc3\x28\n" + b"A" * 100_000
)
SECRET_URL = "http://archiver:hunter2@archive.example.org/pipermail/x/"


def _cli(data: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    assert result.exit_code in (0, 1), result.output
    return result


@pytest.fixture()
def data(corpus: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted/reality").glob("*.txt.gz"))]
    _cli(data, "lists", "add", "reality", "--mbox", *volumes)
    gone = tmp_path / "gone.mbox"
    gone.write_bytes(b"From a@b Mon Jan  1 00:00:00 2001\nFrom: a@b\nSubject: x\n\nhi\n")
    _cli(data, "lists", "add", "broken", "--mbox", str(gone))
    gone.unlink()
    _cli(data, "sync")
    _cli(data, "sync", "broken")  # two failures in a row
    store = Store(data / "store.db")
    try:
        reality = store.get_list("reality").id
        run = runs.start_run(store.conn, reality, "elsewhere:1")
        runs.finish_run(
            store.conn,
            run,
            "partial",
            {
                "list_name": "reality",
                "volumes_failed": 1,
                "failures": [{"volume": "2001-June.txt.gz", "error": f"{SECRET_URL}: 503"}],
                "warnings": ["an index link on another origin was not fetched"],
                "deadline": "sync.run_deadline reached: 3 volumes left for the next run",
                "error": "",
            },
        )
        # a run whose process was killed: marked abandoned by `runs` (and by the page)
        runs.start_run(store.conn, reality, f"{socket.gethostname()}:999999999")
        state = VolumeState("2001-June.txt.gz", "file:///x", fetched_at="2024-05-01T00:00:00")
        store.save_volume(reality, state, [], [Quarantined(state.name, 7, "<b>bad</b>", HOSTILE)])
    finally:
        store.close()
    return data


@pytest.fixture()
def app(data: Path) -> Flask:
    overrides = {
        "data_dir": data,
        "web.secure_cookies": False,
        "web.quarantine_view_bytes": VIEW_BYTES,
    }
    return create_app(load_settings(env={}, overrides=overrides))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _item_id(data: Path) -> int:
    rows = json.loads(_cli(data, "quarantine", "--json").stdout)
    return int(rows[0]["id"])


def _pages(data: Path) -> list[str]:
    item = _item_id(data)
    return ["/runs", "/runs/1", "/quarantine", f"/quarantine/{item}"]


def test_anonymous_and_facilitators_get_nothing(
    client: FlaskClient, app: Flask, data: Path
) -> None:
    pages = _pages(data)
    raw = f"/quarantine/{_item_id(data)}/raw"
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"], page
        assert client.get(page + ".json").status_code == 401, page
    assert client.get("/runs.csv").status_code == 401
    assert client.get(raw).status_code in (302, 401)
    login(client, app, "facilitator")
    for page in [*pages, *(p + ".json" for p in pages), "/runs.csv", "/quarantine.csv", raw]:
        response = client.get(page)
        assert response.status_code == 403, page
        assert b"alert" not in response.data and b"reality" not in response.data, page
    assert b'href="/runs"' not in client.get("/").data  # no nav link for a facilitator


def test_runs_page_and_twins(client: FlaskClient, app: Flask, data: Path) -> None:
    login(client, app, "secretariat")
    assert b'href="/runs"' in client.get("/").data and b'href="/quarantine"' in client.get("/").data
    page = client.get("/runs.json").get_json()
    statuses = [r["status"] for r in page["runs"]]
    assert statuses[:2] == ["abandoned", "partial"] and "error" in statuses and "ok" in statuses
    failing = {h["list"]: h for h in page["lists"] if h["consecutive_failures"]}
    assert failing["broken"]["consecutive_failures"] == 2
    assert "no such file or directory" in failing["broken"]["last_error"]
    # archive URLs are redacted wherever shown
    html = client.get("/runs").get_data(as_text=True)
    assert "hunter2" not in json.dumps(page) and "hunter2" not in html
    assert "***@archive.example.org" in html
    assert "sync.run_deadline reached" in html and "an index link on another origin" in html
    assert 'id="failing-lists"' in html and "broken" in html
    # filters and paging
    only = client.get("/runs.json?list=broken").get_json()
    assert {r["list"] for r in only["runs"]} == {"broken"} and only["page"]["total"] == 2
    assert [h["list"] for h in only["lists"]] == ["broken"]
    abandoned = client.get("/runs.json?status=abandoned").get_json()["runs"]
    assert [r["status"] for r in abandoned] == ["abandoned"]
    assert "ended without finishing" in abandoned[0]["error"]
    assert client.get("/runs.json?status=nope").status_code == 400
    assert client.get("/runs.json?list=nope").status_code == 404
    assert client.get("/runs.json?page=0").status_code == 400
    for odd in ("\u00b2", "0" * 5000 + "1"):  # str.isdigit(), but int() refuses it: not a 500
        assert client.get("/runs.json", query_string={"per_page": odd}).status_code == 400
    first = client.get("/runs.json?per_page=2").get_json()
    second = client.get(first["page"]["next"]).get_json()
    assert len(first["runs"]) == 2 and first["page"]["total"] == len(page["runs"])
    assert second["runs"][0]["id"] < first["runs"][-1]["id"]
    table = list(csv.DictReader(io.StringIO(client.get("/runs.csv").get_data(as_text=True))))
    assert [int(r["id"]) for r in table] == [r["id"] for r in page["runs"]]
    # one run: its summary and failed volumes
    partial = next(r for r in page["runs"] if r["status"] == "partial")
    one = client.get(f"/runs/{partial['id']}.json").get_json()
    assert one["run"]["failures"][0]["volume"] == "2001-June.txt.gz"
    assert "hunter2" not in json.dumps(one)
    html = client.get(f"/runs/{partial['id']}").get_data(as_text=True)
    assert "2001-June.txt.gz" in html and "***@archive.example.org" in html
    assert client.get("/runs/999999.json").status_code == 404


def test_cli_runs_json_is_the_pages_data(client: FlaskClient, app: Flask, data: Path) -> None:
    cli_payload = json.loads(_cli(data, "runs", "--json", "--limit", "50").stdout)
    login(client, app, "secretariat")
    page = client.get("/runs.json?per_page=50").get_json()
    assert page["runs"] == cli_payload["runs"] and page["lists"] == cli_payload["lists"]
    cli_broken = json.loads(_cli(data, "runs", "broken", "--json", "--status", "error").stdout)
    web_broken = client.get("/runs.json?list=broken&status=error").get_json()
    assert web_broken["runs"] == cli_broken["runs"] and len(cli_broken["runs"]) == 2
    quarantine = json.loads(_cli(data, "quarantine", "--json").stdout)
    assert client.get("/quarantine.json").get_json()["items"] == quarantine


def test_quarantine_is_shown_bounded_and_escaped(
    client: FlaskClient, app: Flask, data: Path
) -> None:
    login(client, app, "secretariat")
    listing = client.get("/quarantine.json").get_json()
    item = listing["items"][0]
    assert (item["list"], item["origin"], item["position"]) == ("reality", "2001-June.txt.gz", 7)
    assert item["size"] == len(HOSTILE) and item["reason"] == "<b>bad</b>"
    html = client.get("/quarantine").get_data(as_text=True)
    assert "<b>bad</b>" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html
    assert list(csv.DictReader(io.StringIO(client.get("/quarantine.csv").get_data(as_text=True))))

    one = client.get(f"/quarantine/{item['id']}.json").get_json()
    assert one["shown_bytes"] == VIEW_BYTES and one["truncated"] is True
    # decoded with replacement: one character at most per byte shown
    assert one["text"].startswith("From: <script>") and "\ufffd" in one["text"]
    assert len(one["text"]) <= VIEW_BYTES and one["text"].endswith("AAAA")
    response = client.get(f"/quarantine/{item['id']}")
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html
    assert "A" * (VIEW_BYTES + 1) not in html  # bounded
    assert "first 64 KiB" in html  # oversized messages: only a prefix is stored

    raw = client.get(f"/quarantine/{item['id']}/raw")
    assert raw.status_code == 200 and raw.data == HOSTILE
    assert raw.mimetype == "application/octet-stream"
    assert raw.headers["Content-Disposition"].startswith("attachment")
    assert raw.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/quarantine/999999.json").status_code == 404
    assert client.get("/quarantine/999999/raw").status_code == 404
