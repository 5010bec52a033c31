"""Completeness: per period, what pipermail's date index shows versus what we hold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from ingest.completeness import pipermail_date_index_count
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
