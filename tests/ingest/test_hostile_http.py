"""Archives are untrusted: links and redirects to other origins, a login redirected elsewhere,
credentials in list URLs, servers that drip, lie about the length or cut the body."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.secrets import ArchiveCredentials
from config.settings import ConfigError, load_settings
from ingest.errors import SourceError
from ingest.http import HttpFetcher
from ingest.sources.pipermail import PipermailSource
from listarchive.cli import cli
from store.store import Store
from tests.support.hostile_server import (
    Chunked,
    CutChunked,
    Drip,
    HostileServer,
    Redirect,
    Serve,
    ShortBody,
    index_page,
    message,
    running,
)

LIST = "/pipermail/demo/"
SECRET_WORD = "zanzibarquux"


@pytest.fixture()
def archive() -> Iterator[HostileServer]:
    """The list's own archive host."""
    yield from running()


@pytest.fixture()
def elsewhere() -> Iterator[HostileServer]:
    """Another origin: the same host, another port."""
    yield from running()


def cli_run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and everything printed (stdout, stderr, log)."""
    result = CliRunner(env=env).invoke(cli, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def sync_json(data_dir: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = CliRunner(env=env).invoke(cli, ["--data-dir", str(data_dir), "sync", "--json"])
    run: dict[str, Any] = json.loads(result.stdout)["runs"][0]
    return run


def search_total(data_dir: Path, word: str) -> int:
    code, out = cli_run(data_dir, "search", word, "--json")
    assert code == 0, out
    total: int = json.loads(out)["total"]
    return total


def failure_line(out: str, volume: str) -> str:
    """The summary's one line for a failed volume (the log says it too, on its own lines)."""
    (line,) = [line for line in out.splitlines() if line.startswith(f"  volume {volume} failed")]
    return line


def volume_status(data_dir: Path) -> dict[str, str]:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return dict(conn.execute("SELECT name, status FROM volumes").fetchall())
    finally:
        conn.close()


def serve_two_volumes(archive: HostileServer) -> None:
    archive.routes[LIST + "2001-January.txt"] = Serve(message("one", "first", "a1@x"))
    archive.routes[LIST + "2001-February.txt"] = Serve(message("two", "second", "a2@x"))


# -- SSRF: only the list's own origin -------------------------------------------------------


def test_index_link_to_another_origin_is_not_fetched(
    archive: HostileServer, elsewhere: HostileServer, data_dir: Path
) -> None:
    serve_two_volumes(archive)
    foreign = elsewhere.url("/internal/2001-March.txt")
    elsewhere.routes["/internal/2001-March.txt"] = Serve(message(SECRET_WORD, SECRET_WORD, "s@x"))
    archive.routes[LIST] = Serve(
        index_page("2001-January.txt", "2001-February.txt", foreign), "text/html"
    )
    assert cli_run(data_dir, "lists", "add", "demo", "--pipermail", archive.url(LIST))[0] == 0

    code, out = cli_run(data_dir, "sync")
    assert elsewhere.received == []
    assert code == 0, out
    assert "2 fetched" in out
    warnings = [line for line in out.splitlines() if line.startswith("  warning:")]
    assert len(warnings) == 1 and foreign in warnings[0] and "another origin" in warnings[0]
    assert search_total(data_dir, SECRET_WORD) == 0
    summary = sync_json(data_dir)
    assert len(summary["warnings"]) == 1 and foreign in summary["warnings"][0]
    assert elsewhere.received == []


def test_redirect_to_another_origin_fails_unless_declared(
    archive: HostileServer, elsewhere: HostileServer, data_dir: Path
) -> None:
    serve_two_volumes(archive)
    moved = elsewhere.url("/pipermail/demo/2001-March.txt")
    archive.routes[LIST + "2001-March.txt"] = Redirect(moved, 301)
    elsewhere.routes["/pipermail/demo/2001-March.txt"] = Serve(
        message(SECRET_WORD, "moved here", "m@x")
    )
    archive.routes[LIST] = Serve(
        index_page("2001-January.txt", "2001-February.txt", "2001-March.txt"), "text/html"
    )
    assert cli_run(data_dir, "lists", "add", "demo", "--pipermail", archive.url(LIST))[0] == 0

    code, out = cli_run(data_dir, "sync")
    assert code == 1
    assert elsewhere.received == []
    line = failure_line(out, "2001-March")
    assert "another origin" in line and elsewhere.base_url in line
    assert volume_status(data_dir)["2001-March"] == "failed"

    # the list's archive moved there: declare the new host, and the redirect is followed
    code, out = cli_run(
        data_dir,
        "lists",
        "add",
        "demo",
        "--pipermail",
        archive.url(LIST),
        "--allow-origin",
        elsewhere.base_url,
    )
    assert code == 0, out
    code, out = cli_run(data_dir, "lists", "--json")
    assert json.loads(out)[0]["allow_origins"] == [elsewhere.base_url]
    summary = sync_json(data_dir)
    assert summary["volumes_failed"] == 0 and summary["volumes_fetched"] == 1
    assert elsewhere.paths() == ["/pipermail/demo/2001-March.txt"]
    assert search_total(data_dir, SECRET_WORD) == 1


def test_allow_origins_in_the_config_file(tmp_path: Path, data_dir: Path) -> None:
    config = tmp_path / "listarchive.toml"
    config.write_text(
        '[lists.demo]\npipermail = "https://old.example.org/pipermail/demo/"\n'
        'allow_origins = ["https://New.example.org"]\n'
    )
    (declared,) = load_settings(config, env={}).lists
    assert declared.allow_origins == ("https://new.example.org",)
    args = ["--data-dir", str(data_dir), "--config", str(config), "lists", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["allow_origins"] == ["https://new.example.org"]
    config.write_text(
        '[lists.demo]\npipermail = "https://old.example.org/pipermail/demo/"\n'
        'allow_origins = ["https://new.example.org/some/path"]\n'
    )
    with pytest.raises(ConfigError, match="allow_origins"):
        load_settings(config, env={})


# -- credentials -----------------------------------------------------------------------------

PRIVATE = "/mailman/private/demo/"
PASSWORD = "Pa55-never-elsewhere"


@pytest.mark.parametrize("status", [307, 308])
def test_login_redirected_elsewhere_never_resends_the_password(
    archive: HostileServer, elsewhere: HostileServer, status: int
) -> None:
    archive.routes[PRIVATE] = Redirect(elsewhere.url(PRIVATE), status)
    elsewhere.routes[PRIVATE] = Serve(index_page("2001-January.txt"), "text/html")
    credentials = ArchiveCredentials("member@example.org", PASSWORD, "test")
    fetcher = HttpFetcher(retries=0)
    source = PipermailSource(
        archive.url(PRIVATE), fetcher, list_name="demo", credentials=lambda: credentials
    )
    try:
        with pytest.raises(SourceError) as caught:
            source.volumes()
    finally:
        fetcher.close()
    assert PASSWORD.encode() in archive.received[0].body  # it went to its own origin only
    assert all(PASSWORD.encode() not in r.body for r in elsewhere.received)
    assert elsewhere.received == []
    assert f"HTTP {status}" in caught.value.reason and "not followed" in caught.value.reason
    assert PASSWORD not in str(caught.value)


def test_list_url_with_credentials_is_refused(data_dir: Path, tmp_path: Path) -> None:
    url = "http://member:Hunter2pw@127.0.0.1:9/pipermail/demo/"
    code, out = cli_run(data_dir, "lists", "add", "demo", "--pipermail", url)
    assert code == 2
    assert "user name or password" in out and "Hunter2pw" not in out
    code, out = cli_run(
        data_dir, "lists", "add", "hk", "--hyperkitty", url, "--address", "a@example.org"
    )
    assert code == 2 and "Hunter2pw" not in out
    config = tmp_path / "listarchive.toml"
    config.write_text(f'[lists.demo]\npipermail = "{url}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert "user name or password" in str(caught.value) and "Hunter2pw" not in str(caught.value)


def test_stored_url_with_credentials_is_never_printed(data_dir: Path) -> None:
    # a list added before URLs with credentials were refused
    store = Store(data_dir / "store.db")
    store.add_list("old", "pipermail", url="http://member:Hunter2pw@127.0.0.1:9/pipermail/old/")
    store.close()
    outputs = [
        cli_run(data_dir, "sync")[1],
        cli_run(data_dir, "sync", "--json")[1],
        cli_run(data_dir, "runs")[1],
        cli_run(data_dir, "runs", "--json")[1],
        cli_run(data_dir, "lists")[1],
        cli_run(data_dir, "lists", "--json")[1],
    ]
    assert "cannot connect to 127.0.0.1:9" in outputs[0]
    assert "127.0.0.1:9" in outputs[5]
    assert [o for o in outputs if "Hunter2pw" in o] == []


# -- deadlines and sizes --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_dripping_volume_fails_at_the_request_deadline(
    archive: HostileServer, data_dir: Path, headers: bool
) -> None:
    serve_two_volumes(archive)
    slow = message("slow", "x" * 200, "slow@x")  # 300 bytes: a minute at 0.2 s a byte
    archive.routes[LIST + "2001-March.txt"] = Drip(slow, interval=0.2, headers=headers)
    archive.routes[LIST] = Serve(
        index_page("2001-January.txt", "2001-February.txt", "2001-March.txt"), "text/html"
    )
    assert cli_run(data_dir, "lists", "add", "demo", "--pipermail", archive.url(LIST))[0] == 0
    env = {"LISTARCHIVE_SYNC_REQUEST_DEADLINE": "1.5"}
    code, out = cli_run(data_dir, "sync", env=env)
    assert code == 1
    line = failure_line(out, "2001-March")
    assert "took longer than 1.5 s" in line
    assert "2 fetched" in out
    assert volume_status(data_dir) == {
        "2001-January": "ok",
        "2001-February": "ok",
        "2001-March": "failed",
    }


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_download_larger_than_the_limit_fails(
    archive: HostileServer, data_dir: Path, chunked: bool
) -> None:
    serve_two_volumes(archive)
    big = message("big", "y" * 5000, "big@x")
    archive.routes[LIST + "2001-March.txt"] = Chunked(big) if chunked else Serve(big)
    archive.routes[LIST] = Serve(
        index_page("2001-January.txt", "2001-February.txt", "2001-March.txt"), "text/html"
    )
    assert cli_run(data_dir, "lists", "add", "demo", "--pipermail", archive.url(LIST))[0] == 0
    code, out = cli_run(data_dir, "sync", env={"LISTARCHIVE_SYNC_MAX_DOWNLOAD_BYTES": "2000"})
    assert code == 1
    line = failure_line(out, "2001-March")
    assert "larger than 2000 bytes" in line
    assert "2 fetched" in out


@pytest.mark.parametrize("gz", [False, True], ids=["txt", "txt.gz"])
@pytest.mark.parametrize("cut", ["content-length", "chunked"])
def test_cut_body_is_not_stored_and_is_retried(
    archive: HostileServer, data_dir: Path, cut: str, gz: bool
) -> None:
    serve_two_volumes(archive)
    text = b"".join(message(f"cut {n}", "z" * 300, f"cut{n}@x") for n in range(20))
    data = gzip.compress(text, mtime=0) if gz else text
    name = "2001-March.txt" + (".gz" if gz else "")
    whole = len(data) * 2 // 3
    archive.routes[LIST + name] = (
        ShortBody(data[:whole], announced=len(data))
        if cut == "content-length"
        else CutChunked(data[:whole], chunk=500)
    )
    archive.routes[LIST] = Serve(
        index_page("2001-January.txt", "2001-February.txt", name), "text/html"
    )
    assert cli_run(data_dir, "lists", "add", "demo", "--pipermail", archive.url(LIST))[0] == 0
    code, out = cli_run(data_dir, "sync", env={"LISTARCHIVE_SYNC_RETRIES": "0"})
    assert code == 1
    line = failure_line(out, "2001-March")
    assert "closed the connection before the whole file arrived" in line
    assert volume_status(data_dir)["2001-March"] == "failed"
    assert search_total(data_dir, "cut") == 0

    # the server sends it whole next time: the volume is fetched then
    archive.routes[LIST + name] = Serve(data)
    summary = sync_json(data_dir)
    assert summary["volumes_fetched"] == 1 and summary["volumes_failed"] == 0
    assert summary["new_messages"] == 20


def test_hyperkitty_exports_stay_on_the_origin_and_in_time(
    archive: HostileServer, elsewhere: HostileServer, data_dir: Path
) -> None:
    address = "demo@example.org"
    root = f"/hyperkitty/list/{address}/"
    archive.routes[root] = Serve(
        index_page(f"{root}2001/1/", f"{root}2001/2/", f"{root}2001/3/"), "text/html"
    )
    export = f"{root}export/{address}-2001-%02d.mbox.gz"
    archive.routes[export % 1] = Serve(gzip.compress(message("fine", "ok", "f@x"), mtime=0))
    archive.routes[export % 2] = Redirect(elsewhere.url("/export.mbox.gz"), 302)
    archive.routes[export % 3] = Drip(gzip.compress(message("slow", "z" * 300, "s@x")))
    elsewhere.routes["/export.mbox.gz"] = Serve(gzip.compress(message(SECRET_WORD, "x", "e@x")))
    code, out = cli_run(
        data_dir,
        "lists",
        "add",
        "demo",
        "--hyperkitty",
        archive.url("/hyperkitty/"),
        "--address",
        address,
    )
    assert code == 0, out
    code, out = cli_run(data_dir, "sync", env={"LISTARCHIVE_SYNC_REQUEST_DEADLINE": "1.5"})
    assert code == 1
    assert elsewhere.received == []
    assert "another origin" in failure_line(out, "2001-02")
    assert "took longer than 1.5 s" in failure_line(out, "2001-03")
    assert "1 fetched" in out
    assert search_total(data_dir, SECRET_WORD) == 0
