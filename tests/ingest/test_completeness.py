"""Completeness: per period, what pipermail's date index shows versus what we hold."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

from click.testing import CliRunner

from ingest.completeness import period_key, pipermail_date_index_count
from ingest.http import HttpFetcher
from listarchive.cli import cli
from tests.support.archive_server import ArchiveServer


def test_date_index_count(corpus: Path) -> None:
    page = (corpus / "pipermail/twisted/twisted-python/2018-October/date.html").read_bytes()
    assert pipermail_date_index_count(page) == 26
    without_header = b'<ul><LI><A HREF="000001.html">a</A><LI><A HREF="000002.html">b</A></ul>'
    assert pipermail_date_index_count(without_header) == 2
    assert pipermail_date_index_count(b"<html>nothing</html>") is None


def test_completeness_report(archive_server: ArchiveServer, corpus: Path, tmp_path: Path) -> None:
    source = corpus / "pipermail/twisted/twisted-python"
    site = tmp_path / "site"
    site.mkdir()
    for name in ("2018-October", "2018-September", "1945-February"):
        shutil.copy(source / f"{name}.txt.gz", site)
        if (source / name).is_dir():
            shutil.copytree(source / name, site / name)
    archive_server.mounts["/pipermail/tp/"] = site
    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]
    url = archive_server.url("/pipermail/tp/")
    assert runner.invoke(cli, [*base, "lists", "add", "tp", "--pipermail", url]).exit_code == 0
    assert runner.invoke(cli, [*base, "sync"]).exit_code == 0
    result = runner.invoke(cli, [*base, "completeness", "tp", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["period"]: r for r in json.loads(result.stdout)}
    october = rows["2018-October"]
    # the .txt.gz holds every message twice (re-archived); the date index and we agree on 26
    assert (october["archive"], october["held"], october["in_volume"]) == (26, 26, 52)
    assert october["difference"] == 0
    assert rows["2018-September"]["archive"] is None
    assert rows["1945-February"]["archive"] == rows["1945-February"]["held"] > 0
    text = runner.invoke(cli, [*base, "completeness", "tp"]).stdout
    assert "3 periods: 0 differ, 1 without an archive count" in text


def _site(corpus: Path, tmp_path: Path, archive_server: ArchiveServer) -> tuple[list[str], str]:
    source = corpus / "pipermail/twisted/twisted-python"
    site = tmp_path / "site"
    site.mkdir()
    for name in ("2018-October", "2018-September", "1945-February"):
        shutil.copy(source / f"{name}.txt.gz", site)
        if (source / name).is_dir():
            shutil.copytree(source / name, site / name)
    archive_server.mounts["/pipermail/tp/"] = site
    base = ["--data-dir", str(tmp_path / "data")]
    url = archive_server.url("/pipermail/tp/")
    assert CliRunner().invoke(cli, [*base, "lists", "add", "tp", "--pipermail", url]).exit_code == 0
    assert CliRunner().invoke(cli, [*base, "sync"]).exit_code == 0
    return base, url


def test_periods_in_time_order_and_no_difference_none(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    base, _url = _site(corpus, tmp_path, archive_server)
    result = CliRunner().invoke(cli, [*base, "completeness", "tp", "--all"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == [
        "1945-February",
        "2018-September",
        "2018-October",
    ]
    assert "None" not in result.stdout
    assert "difference" not in lines[1] and "difference 0" in lines[2]
    rows = json.loads(CliRunner().invoke(cli, [*base, "completeness", "tp", "--json"]).stdout)
    assert [r["period"] for r in rows] == ["1945-February", "2018-September", "2018-October"]
    assert rows[1]["archive"] is None and rows[1]["difference"] is None  # JSON keeps null


def test_period_key_sorts_by_time() -> None:
    names = ["2018-October", "2018-April", "misc", "2004q3", "2004", "2003-12", "2018-August"]
    assert sorted(names, key=period_key) == [
        "2003-12",
        "2004",
        "2004q3",
        "2018-April",
        "2018-August",
        "2018-October",
        "misc",
    ]


def test_server_gone_exits_1_and_says_why(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    base, _url = _site(corpus, tmp_path, archive_server)
    archive_server.stop()  # the quickstart's local server is gone
    result = CliRunner().invoke(cli, [*base, "completeness", "tp"])
    assert result.exit_code == 1, result.output
    assert "3 periods: 0 differ, 3 without an archive count (3 could not be fetched)" in (
        result.stdout
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Connection refused" in errors[0], result.stderr
    assert CliRunner().invoke(cli, [*base, "completeness", "tp", "--json"]).exit_code == 1


def test_date_index_failing_exits_1(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    base, _url = _site(corpus, tmp_path, archive_server)
    archive_server.faults["/pipermail/tp/2018-October/date.html"] = "500"
    result = CliRunner().invoke(cli, [*base, "completeness", "tp"])
    assert result.exit_code == 1, result.output
    assert "(1 could not be fetched)" in result.stdout and "HTTP 500" in result.stderr


def _refusing_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refusing_host_fails_its_remaining_requests_at_once(
    archive_server: ArchiveServer, corpus: Path
) -> None:
    archive_server.mounts["/tp/"] = corpus / "pipermail/twisted/twisted-python"
    dead = f"http://127.0.0.1:{_refusing_port()}"
    fetcher = HttpFetcher(retries=2)
    try:
        first = fetcher.get(f"{dead}/2018-October/date.html")
        rest = [fetcher.get(f"{dead}/{n}/date.html") for n in ("2018-May", "2017-May", "2016")]
        live = fetcher.get(archive_server.url("/tp/2018-October/date.html"))
    finally:
        fetcher.close()
    assert first.status == 0 and first.requests == 3 and "Connection refused" in first.error
    assert [(r.status, r.requests, r.error) for r in rest] == [(0, 0, first.error)] * 3
    assert live.ok and live.requests == 1  # another host (port) is not affected
