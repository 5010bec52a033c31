"""End to end: a pipermail archive served over local HTTP, synced through the CLI."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli
from tests.support.archive_server import ArchiveServer
from tests.support.storedump import dump_store

LIST_PATH = "/pipermail/divunal-list/"


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def add_divunal(server: ArchiveServer, corpus: Path, data_dir: Path) -> None:
    # this list's own index.html is stale (it links 6 of 33 volumes): serve a listing
    server.mounts[LIST_PATH] = corpus / "pipermail/twisted/divunal-list"
    server.listings.add(LIST_PATH)
    code, out = run(data_dir, "lists", "add", "divunal", "--pipermail", server.url(LIST_PATH))
    assert code == 0, out


def test_sync_then_rerun_changes_nothing(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    add_divunal(archive_server, corpus, data_dir)
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    first = json.loads(out)["runs"][0]
    assert first["volumes_failed"] == 0
    assert first["volumes_fetched"] == 33
    assert first["new_messages"] > 1000
    before = dump_store(data_dir / "store.db")
    archive_server.requests.clear()

    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    second = json.loads(out)["runs"][0]
    assert second["new_messages"] == 0
    assert second["volumes_unchanged"] == 33
    assert second["volumes_fetched"] == 0
    # one request for the index page plus exactly one conditional request per volume
    assert sum(archive_server.requests.values()) == 1 + 33
    assert dump_store(data_dir / "store.db") == before
    assert json.loads(out)["indexed"] == 0


def test_stale_gz_beside_longer_txt_uses_txt(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    add_divunal(archive_server, corpus, data_dir)
    assert run(data_dir, "sync")[0] == 0
    conn = sqlite3.connect(data_dir / "store.db")
    url, count = conn.execute(
        "SELECT url, message_count FROM volumes WHERE name = '2007-February'"
    ).fetchone()
    assert url.endswith("/2007-February.txt")
    plain = (corpus / "pipermail/twisted/divunal-list/2007-February.txt").read_bytes()
    stale = gzip.decompress(
        (corpus / "pipermail/twisted/divunal-list/2007-February.txt.gz").read_bytes()
    )
    assert len(plain) > len(stale)
    assert count == 25


def test_faults_are_reported_and_other_volumes_continue(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    add_divunal(archive_server, corpus, data_dir)
    faults = {
        "2006-December.txt.gz": "corrupt-gzip",
        "2006-November.txt.gz": "html",
        "2006-October.txt.gz": "404",
        "2006-August.txt.gz": "500",
    }
    for name, fault in faults.items():
        archive_server.faults[LIST_PATH + name] = fault
    code, out = run(data_dir, "sync")
    assert code == 1
    assert "volume 2006-December failed: " in out and "corrupt gzip" in out
    assert "volume 2006-November failed: " in out and "HTML page" in out
    assert "HTTP 404" in out
    assert "HTTP 500" in out
    assert "4 failed" in out
    conn = sqlite3.connect(data_dir / "store.db")
    ok_volumes = conn.execute("SELECT count(*) FROM volumes WHERE status = 'ok'").fetchone()[0]
    assert ok_volumes == 29
    stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    conn.close()

    # the faults clear: the next run fetches only what failed and ends clean
    archive_server.faults.clear()
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    summary = json.loads(out)["runs"][0]
    assert summary["volumes_fetched"] == 4
    assert summary["volumes_unchanged"] == 29
    conn = sqlite3.connect(data_dir / "store.db")
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] > stored


def test_refused_connection_and_timeout(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    code, out = run(data_dir, "lists", "add", "gone", "--pipermail", "http://127.0.0.1:9/x/")
    assert code == 0
    code, out = run(data_dir, "sync", "gone")
    assert code == 1
    assert "FAILED" in out and "cannot connect to 127.0.0.1:9" in out

    add_divunal(archive_server, corpus, data_dir)
    archive_server.faults[LIST_PATH + "2005-April.txt.gz"] = "timeout"
    result = CliRunner(env={"LISTARCHIVE_SYNC_TIMEOUT": "0.5", "LISTARCHIVE_SYNC_RETRIES": "0"})
    res = result.invoke(cli, ["--data-dir", str(data_dir), "sync", "divunal"])
    assert res.exit_code == 1
    assert "volume 2005-April failed: timeout" in res.output
    assert "32 fetched" in res.output


def test_quarterly_and_yearly_volumes(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    """The R lists archive by quarter (r-sig-finance) and by year (r-announce); their folders
    have no index page, so the server answers with a directory listing."""
    for name in ("r-sig-finance", "r-announce"):
        prefix = f"/pipermail/{name}/"
        archive_server.mounts[prefix] = corpus / "pipermail/r-project" / name
        assert (
            run(data_dir, "lists", "add", name, "--pipermail", archive_server.url(prefix))[0] == 0
        )
    code, out = run(data_dir, "sync", "--json")
    assert code == 0, out
    runs = {r["list_name"]: r for r in json.loads(out)["runs"]}
    assert runs["r-sig-finance"]["volumes_fetched"] == len(
        list((corpus / "pipermail/r-project/r-sig-finance").glob("*q*.txt.gz"))
    )
    assert runs["r-announce"]["volumes_fetched"] == len(
        list((corpus / "pipermail/r-project/r-announce").glob("*.txt.gz"))
    )
    conn = sqlite3.connect(data_dir / "store.db")
    names = {r[0] for r in conn.execute("SELECT name FROM volumes")}
    assert {"2016q1", "2026q2", "1997", "2026"} <= names
    total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert total > 2000
    undated = conn.execute("SELECT count(*) FROM messages WHERE date IS NULL").fetchone()[0]
    assert undated == 0
