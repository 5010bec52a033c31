"""The HyperKitty (Mailman 3) source: pure URL/month helpers, the Message-ID-Hash against real
Mailman 3 headers, and end-to-end syncs through the CLI against a local HyperKitty."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import compat32
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.settings import ConfigError
from config.tables import parse_lists as _parse_lists
from ingest.http import HttpFetcher
from ingest.sources.base import Volume
from ingest.sources.hyperkitty import (
    HyperKittySource,
    export_url,
    list_url,
    mailman_message_id_hash,
    message_id_hash,
    month_bounds,
    parse_months,
    permalink,
    recent_months,
    root_url,
)
from listarchive.cli import cli
from store.records import VolumeState
from tests.support.hyperkitty_server import HyperKittyServer, read_mbox

ADDRESS = "usrp-users@lists.ettus.com"
USRP = ("hyperkitty", "usrp-users-2021-03_to_2021-05.mbox.gz")


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    """Exit code and stdout (logs and usage errors go to stderr)."""
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout


@pytest.fixture()
def hyperkitty(corpus: Path) -> Iterator[HyperKittyServer]:
    server = HyperKittyServer(address=ADDRESS)
    server.load(corpus.joinpath(*USRP))
    server.start()
    yield server
    server.stop()


def add_usrp(server: HyperKittyServer, data_dir: Path) -> None:
    code, out = run(
        data_dir, "lists", "add", "usrp", "--hyperkitty", server.base_url, "--address", ADDRESS
    )
    assert code == 0, out


def sync_json(data_dir: Path, expect: int = 0) -> dict[str, object]:
    code, out = run(data_dir, "sync", "--json")
    assert code == expect, out
    run_summary: dict[str, object] = json.loads(out)["runs"][0]
    return run_summary


def stored_messages(data_dir: Path) -> int:
    code, out = run(data_dir, "lists", "--json")
    assert code == 0, out
    return int(json.loads(out)[0]["messages"])


# --- pure helpers ----------------------------------------------------------------------


def test_urls_follow_hyperkitty_routes() -> None:
    root = "https://lists.example.org/archives/"
    assert root_url("https://lists.example.org/archives") == root
    assert root_url(f"{root}list/{ADDRESS}/") == root
    assert list_url(root, ADDRESS) == f"{root}list/{ADDRESS}/"
    assert export_url(root, ADDRESS, 2021, 12) == (
        f"{root}list/{ADDRESS}/export/{ADDRESS}-2021-12.mbox.gz?start=2021-12-01&end=2022-01-01"
    )
    assert month_bounds(2024, 2) == (date(2024, 2, 1), date(2024, 3, 1))
    mid = "<87myycy5eh.fsf@uwakimon.sk.tsukuba.ac.jp>"
    assert permalink(root, ADDRESS, mid) == (
        f"{root}list/{ADDRESS}/message/{message_id_hash(mid)}/"
    )


def test_message_id_hash_ignores_brackets_and_whitespace() -> None:
    bare = message_id_hash("abc@example.org")
    assert len(bare) == 32 and re.fullmatch(r"[A-Z2-7]+", bare)
    assert message_id_hash("<abc@example.org>") == bare
    assert message_id_hash("\n <abc@example.org>") == bare
    assert mailman_message_id_hash("<abc@example.org>") == bare
    assert mailman_message_id_hash("\n <abc@example.org>") == message_id_hash("<<abc@example.org>>")


def test_parse_months_reads_the_month_menu_only() -> None:
    html = f"""
      <a href="/archives/list/{ADDRESS}/2021/3/">March</a>
      <a href='/archives/list/{ADDRESS}/2020/12/'>December</a>
      <a href="/archives/list/usrp-users%40lists.ettus.com/2021/4/">April</a>
      <a href="/archives/list/{ADDRESS}/2021/3/">again</a>
      <a href="/archives/list/other@lists.ettus.com/2019/1/">other list</a>
      <a href="/archives/list/{ADDRESS}/2021/13/">bogus</a>
      <a href="/archives/list/{ADDRESS}/thread/ABC/">a thread</a>
    """
    assert parse_months(html, ADDRESS) == [(2020, 12), (2021, 3), (2021, 4)]


def test_recent_months_wrap_the_year() -> None:
    assert recent_months(date(2024, 1, 15)) == ((2024, 1), (2023, 12))
    assert recent_months(date(2024, 7, 1)) == ((2024, 7), (2024, 6))


def test_past_month_already_fetched_costs_no_request() -> None:
    source = HyperKittySource("http://127.0.0.1:9/hyperkitty/", ADDRESS, HttpFetcher(retries=0))
    volume = Volume("2021-03", export_url(source.base_url, ADDRESS, 2021, 3))
    state = VolumeState("2021-03", volume.url, sha256="x", message_count=209)
    download = source.download(volume, state, today=date(2024, 6, 1))
    assert (download.status, download.requests, download.state) == ("unchanged", 0, state)
    # the previous month is always asked for (here: nothing listens, so it fails)
    recent = source.download(volume, state, today=date(2021, 4, 2))
    assert recent.status == "failed" and recent.requests == 1
    failed = VolumeState("2021-03", volume.url, status="failed", error="HTTP 500")
    again = source.download(volume, failed, today=date(2024, 6, 1))
    assert again.status == "failed" and again.requests == 0  # that host refused in this run
    source.fetcher.unreachable.clear()  # the next run asks a failed volume again
    assert source.download(volume, failed, today=date(2024, 6, 1)).requests == 1
    source.fetcher.close()


def test_config_file_declares_a_hyperkitty_list() -> None:
    spec = {"usrp": {"hyperkitty": "https://lists.ettus.com/archives/", "address": ADDRESS}}
    (declared,) = _parse_lists(spec, "test.toml")
    assert (declared.source, declared.url, declared.address) == (
        "hyperkitty",
        "https://lists.ettus.com/archives/",
        ADDRESS,
    )
    with pytest.raises(ConfigError, match="address"):
        _parse_lists({"usrp": {"hyperkitty": "https://lists.ettus.com/archives/"}}, "t.toml")


# --- Message-ID-Hash against what Mailman 3 wrote -------------------------------------


def test_hash_matches_mailman3_headers_for_every_corpus_message(corpus: Path) -> None:
    archived = folded = 0
    for raw in read_mbox(corpus.joinpath(*USRP)):
        msg = message_from_bytes(raw, policy=compat32)
        header = str(msg["Message-ID"])
        mailman = mailman_message_id_hash(header)
        for name in ("X-Message-ID-Hash", "Message-ID-Hash"):
            if msg[name] is not None:
                assert str(msg[name]).strip() == mailman
        if msg["Archived-At"] is None:
            continue
        archived += 1
        assert msg["X-Message-ID-Hash"] is not None
        match = re.search(r"/list/([^/]+)/message/([A-Z2-7]+)/", str(msg["Archived-At"]))
        assert match is not None and match[1] == ADDRESS
        # Archived-At is HyperKitty's own URL (mailman-hyperkitty asks HyperKitty for it)
        assert match[2] == message_id_hash(header)
        url = permalink("https://lists.ettus.com/archives/", ADDRESS, header)
        assert str(msg["Archived-At"]).strip() == f"<{url}>"
        if header.startswith("<"):
            assert message_id_hash(header) == mailman
        else:
            folded += 1
            assert message_id_hash(header) != mailman
    # 673 Mailman 3 messages carry Archived-At (MANIFEST.md); 64 have a folded Message-ID
    assert (archived, folded) == (673, 64)


# --- end to end through the CLI -------------------------------------------------------


def test_sync_rerun_and_new_message(
    hyperkitty: HyperKittyServer, corpus: Path, data_dir: Path
) -> None:
    add_usrp(hyperkitty, data_dir)
    code, out = run(data_dir, "lists", "--json")
    assert json.loads(out)[0]["address"] == ADDRESS
    months = len(hyperkitty.months())
    distinct = {
        str(message_from_bytes(raw, policy=compat32)["Message-ID"]).strip()
        for raw in read_mbox(corpus.joinpath(*USRP))
    }

    first = sync_json(data_dir)
    assert first["volumes_fetched"] == months and first["volumes_failed"] == 0
    assert first["new_messages"] == len(distinct) == 719
    assert stored_messages(data_dir) == 719
    # the overview page plus one export per listed month (empty months included)
    assert sum(hyperkitty.requests.values()) == 1 + months
    assert hyperkitty.requests[hyperkitty.list_path] == 1

    hyperkitty.requests.clear()
    second = sync_json(data_dir)
    assert second["new_messages"] == 0 and second["volumes_unchanged"] == months
    # the overview, then only the current and the previous month
    assert sum(hyperkitty.requests.values()) == 1 + 2
    today = datetime.now(UTC).date()
    current = f"{hyperkitty.list_path}export/{ADDRESS}-{today:%Y-%m}.mbox.gz"
    assert hyperkitty.requests[current] == 1

    hyperkitty.requests.clear()
    raw = (
        f"From: Jane Doe <jane@example.org>\nTo: {ADDRESS}\nSubject: [USRP-users] new post\n"
        f"Date: {format_datetime(datetime.now(UTC))}\nMessage-ID: <new-post@example.org>\n"
        "\nA new message arrived.\n"
    ).encode()
    hyperkitty.add_message(raw)
    third = sync_json(data_dir)
    assert third["new_messages"] == 1 and third["volumes_fetched"] == 1
    assert sum(hyperkitty.requests.values()) == 1 + 2
    assert stored_messages(data_dir) == 720


def test_export_is_what_hyperkitty_writes(hyperkitty: HyperKittyServer) -> None:
    fetcher = HttpFetcher()
    source = HyperKittySource(hyperkitty.base_url, ADDRESS, fetcher)
    march = source.volumes()[0]
    assert march.name == "2021-03"
    response = fetcher.client.get(march.url)
    assert response.headers["Content-Type"] == "application/gzip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{ADDRESS}-2021-03.mbox.gz"'
    )
    assert "ETag" not in response.headers
    text = gzip.decompress(response.content)
    assert text.startswith(f"From {ADDRESS} Tue Mar  2 18:52:50 2021\n".encode())
    raws = list(source.split(march, response.content))
    assert len(raws) == 209
    first = message_from_bytes(raws[0].raw, policy=compat32)
    assert first["To"] == ADDRESS and first["X-Message-ID-Hash"] is None
    fetcher.close()


def test_failed_month_is_reported_and_others_continue(
    hyperkitty: HyperKittyServer, data_dir: Path
) -> None:
    add_usrp(hyperkitty, data_dir)
    april = f"{hyperkitty.list_path}export/{ADDRESS}-2021-04.mbox.gz"
    hyperkitty.faults[april] = "500"
    first = sync_json(data_dir, expect=1)
    assert first["volumes_failed"] == 1
    assert first["failures"] == [
        {
            "volume": "2021-04",
            "error": f"HTTP 500 for {hyperkitty.base_url}list/{ADDRESS}"
            f"/export/{ADDRESS}-2021-04.mbox.gz?start=2021-04-01&end=2021-05-01",
        }
    ]
    assert first["new_messages"] == 719 - 278
    # the failed month is asked for again next time, and only it among the past months
    del hyperkitty.faults[april]
    hyperkitty.requests.clear()
    second = sync_json(data_dir)
    assert second["new_messages"] == 278
    assert sum(hyperkitty.requests.values()) == 1 + 1 + 2


def test_unknown_address_is_a_clear_error(hyperkitty: HyperKittyServer, data_dir: Path) -> None:
    code, out = run(
        data_dir,
        "lists",
        "add",
        "nope",
        "--hyperkitty",
        hyperkitty.base_url,
        "--address",
        "nope@lists.ettus.com",
    )
    assert code == 0, out
    code, out = run(data_dir, "sync", "--json")
    assert code == 1
    error = json.loads(out)["runs"][0]["error"]
    assert "no HyperKitty list nope@lists.ettus.com here (HTTP 404)" in error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hyperkitty", "https://lists.example.org/archives/"], "needs --address"),
        (
            [
                "--hyperkitty",
                "https://x.org/",
                "--pipermail",
                "https://x.org/p/",
                "--address",
                ADDRESS,
            ],
            "exactly one source",
        ),
        (["--hyperkitty", "ftp://x.org/", "--address", ADDRESS], "not an http(s) URL"),
    ],
)
def test_lists_add_rejects_bad_hyperkitty_options(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "lists", "add", "x", *args])
    assert result.exit_code == 2
    assert message in result.stderr
