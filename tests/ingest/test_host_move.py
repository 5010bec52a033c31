"""A list's archive moved to a declared origin: the old host redirects the index (or the
HyperKitty list page) only, and every link is resolved against where the index really is; the
origin policy still holds for the links found there.  Malformed URLs never echo a password, and
refusal hints suggest `--allow-origin` for http(s) origins only."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.settings import ConfigError, load_settings
from ingest.http import HttpFetcher
from listarchive.cli import cli
from tests.ingest.test_hostile_http import LIST, cli_run, search_total, serve_two_volumes
from tests.support.hostile_server import (
    HostileServer,
    Redirect,
    Serve,
    index_page,
    message,
    running,
)


@pytest.fixture()
def old() -> Iterator[HostileServer]:
    """The archive's old host: it redirects only the index to the new one."""
    yield from running()


@pytest.fixture()
def new() -> Iterator[HostileServer]:
    yield from running()


@pytest.fixture()
def third() -> Iterator[HostileServer]:
    """An origin nobody declared."""
    yield from running()


def cli_json(data_dir: Path, *args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout else result.output


def _add(data_dir: Path, *args: str) -> None:
    code, out = cli_run(data_dir, "lists", "add", "demo", *args)
    assert code == 0, out


def test_moved_pipermail_index_links_resolve_on_the_new_host(
    old: HostileServer, new: HostileServer, third: HostileServer, data_dir: Path
) -> None:
    old.routes[LIST] = Redirect(new.url(LIST), 301)
    foreign = third.url(LIST + "2001-March.txt")
    third.routes[LIST + "2001-March.txt"] = Serve(message("foreign", "x", "f@x"))
    new.routes[LIST] = Serve(
        index_page("2001-January.txt", "2001-February.txt", foreign), "text/html"
    )
    serve_two_volumes(new)
    _add(data_dir, "--pipermail", old.url(LIST), "--allow-origin", new.base_url)

    code, out = cli_run(data_dir, "sync")
    assert code == 0, out
    assert "2 fetched" in out and "0 failed" in out
    assert old.paths() == [LIST]  # the volumes were asked of the new host
    assert sorted(new.paths()) == [LIST, LIST + "2001-February.txt", LIST + "2001-January.txt"]
    # the policy still holds for links on the moved index
    assert third.received == []
    (warning,) = [line for line in out.splitlines() if line.startswith("  warning:")]
    assert foreign in warning and "another origin" in warning
    assert search_total(data_dir, "second") == 1


def test_moved_hyperkitty_list_page_exports_from_the_new_root(
    old: HostileServer, new: HostileServer, data_dir: Path
) -> None:
    address = "demo@example.org"
    page = f"/hyperkitty/list/{address}/"
    old.routes[page] = Redirect(new.url("/archives" + page[len("/hyperkitty") :]), 301)
    root = f"/archives/list/{address}/"
    new.routes[root] = Serve(index_page(f"{root}2001/1/", f"{root}2001/2/"), "text/html")
    export = f"{root}export/{address}-2001-%02d.mbox.gz"
    new.routes[export % 1] = Serve(gzip.compress(message("hkone", "a", "h1@x"), mtime=0))
    new.routes[export % 2] = Serve(gzip.compress(message("hktwo", "b", "h2@x"), mtime=0))
    args = ["--hyperkitty", old.url("/hyperkitty/"), "--address", address]
    _add(data_dir, *args, "--allow-origin", new.base_url)

    code, out = cli_run(data_dir, "sync")
    assert code == 0, out
    assert "2 fetched" in out
    assert old.paths() == [page]
    assert search_total(data_dir, "hktwo") == 1


def test_pipermail_map_and_completeness_follow_a_declared_move(
    old: HostileServer, new: HostileServer, data_dir: Path
) -> None:
    old.routes[LIST] = Redirect(new.url(LIST), 301)
    new.routes[LIST] = Serve(index_page("2001-January.txt"), "text/html")
    new.routes[LIST + "2001-January.txt"] = Serve(message("Hello", "first", "a1@x"))
    new.routes[LIST + "2001-January/date.html"] = Serve(
        b"<b>Messages:</b> 1<ul>\n"
        b'<LI><A HREF="000001.html">Hello</A><A NAME="1">&nbsp;</A><I>Someone</I>\n</ul>',
        "text/html",
    )
    _add(data_dir, "--pipermail", old.url(LIST), "--allow-origin", new.base_url)
    assert cli_run(data_dir, "sync")[0] == 0

    code, out = cli_json(data_dir, "pipermail-map", "demo")
    assert code == 0, out
    assert out["matched"] == 1
    code, out = cli_json(data_dir, "completeness", "demo")
    assert code == 0, out
    (row,) = out
    assert (row["period"], row["archive"], row["held"]) == ("2001-January", 1, 1)
    assert all(path == LIST for path in old.paths())


def test_pipermail_map_refuses_an_undeclared_origin(
    old: HostileServer, new: HostileServer, data_dir: Path
) -> None:
    old.routes[LIST] = Serve(index_page("2001-January.txt"), "text/html")
    old.routes[LIST + "2001-January.txt"] = Serve(message("Hello", "first", "a1@x"))
    old.routes[LIST + "2001-January/date.html"] = Redirect(new.url("/date.html"), 302)
    _add(data_dir, "--pipermail", old.url(LIST))
    assert cli_run(data_dir, "sync")[0] == 0
    code, out = cli_run(data_dir, "pipermail-map", "demo")
    assert code == 1 and "another origin" in out
    code, rows = cli_json(data_dir, "completeness", "demo")
    assert code == 1 and rows[0]["archive"] is None  # a count that could not be fetched
    assert new.received == []


# -- a password in a malformed URL is never echoed -------------------------------------------

PASSWORD = "PwLeak10"
MALFORMED = [
    f"http:/bob:{PASSWORD}@127.0.0.1:18001/r2/",
    f"http:bob:{PASSWORD}@127.0.0.1:18001/r2/",
    f"http:///bob:{PASSWORD}@127.0.0.1:18001/r2/",
    f"https:\\\\bob:{PASSWORD}@127.0.0.1/r2/",
    f"bob:{PASSWORD}@127.0.0.1:18001/r2/",
    f"ftp://bob:{PASSWORD}@127.0.0.1/r2/",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_url_with_a_password_is_never_echoed(
    url: str, data_dir: Path, tmp_path: Path
) -> None:
    code, out = cli_run(data_dir, "lists", "add", "c2", "--pipermail", url)
    assert code == 2 and "c2" not in cli_run(data_dir, "lists")[1]
    assert "--pipermail" in out and PASSWORD not in out
    code, out = cli_run(
        data_dir, "lists", "add", "c2", "--hyperkitty", url, "--address", "a@example.org"
    )
    assert code == 2 and PASSWORD not in out
    code, out = cli_run(
        data_dir, "lists", "add", "c2", "--pipermail", "http://h/", "--allow-origin", url
    )
    assert code == 2 and PASSWORD not in out
    for table in (f'pipermail = "{url}"', f'pipermail = "http://h/"\nallow_origins = ["{url}"]'):
        config = tmp_path / "listarchive.toml"
        config.write_text(f"[lists.c2]\n{table}\n".replace("\\", "\\\\"))
        with pytest.raises(ConfigError) as caught:
            load_settings(config, env={})
        assert "lists.c2" in str(caught.value) and PASSWORD not in str(caught.value)
        result = cli_run(data_dir, "--config", str(config), "lists")
        assert result[0] != 0 and PASSWORD not in result[1]


# -- refusal hints ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:70/x"])
def test_redirect_to_another_scheme_says_the_scheme_is_not_allowed(
    old: HostileServer, target: str
) -> None:
    old.routes[LIST] = Redirect(target, 302)
    fetcher = HttpFetcher(retries=0)
    try:
        result = fetcher.get(old.url(LIST))
    finally:
        fetcher.close()
    assert not result.ok
    assert "--allow-origin" not in result.error
    assert "scheme" in result.error and "not allowed" in result.error


def test_redirect_to_another_http_origin_suggests_declaring_it(
    old: HostileServer, new: HostileServer
) -> None:
    old.routes[LIST] = Redirect(new.url(LIST), 302)
    fetcher = HttpFetcher(retries=0)
    try:
        result = fetcher.get(old.url(LIST))
    finally:
        fetcher.close()
    assert f"--allow-origin {new.base_url}" in result.error
    assert new.received == []
