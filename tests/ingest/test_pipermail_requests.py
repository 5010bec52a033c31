"""Requests a pipermail sync makes (issue 14): no failed `.txt` probe per volume.

Whether the server keeps plain `.txt` twins of the volumes it links as `.txt.gz` only is
learned once per list (one probe) and remembered in its volume states."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.http import HttpFetcher
from ingest.sources.pipermail import PipermailSource
from listarchive.cli import cli
from store.records import VolumeState
from tests.support.archive_server import ArchiveServer

TWISTED = "/pipermail/twisted-python/"


@pytest.fixture
def fetcher() -> Iterator[HttpFetcher]:
    client = HttpFetcher(retries=0)
    yield client
    client.close()


def _sync_all(source: PipermailSource, states: dict[str, VolumeState]) -> dict[str, VolumeState]:
    source.remember(states)
    learned: dict[str, VolumeState] = {}
    for volume in source.volumes():
        download = source.download(volume, states.get(volume.name))
        assert download.status in ("fetched", "unchanged"), download.error
        download.discard()
        assert download.state is not None
        learned[volume.name] = download.state
    return learned


def test_first_sync_asks_each_volume_once(
    archive_server: ArchiveServer, corpus: Path, fetcher: HttpFetcher
) -> None:
    archive_server.mounts[TWISTED] = corpus / "pipermail/twisted/twisted-python"
    source = PipermailSource(archive_server.url(TWISTED), fetcher, list_name="twisted-python")
    states = _sync_all(source, {})
    assert len(states) == 248
    # the index, every volume once, and one probe for a plain .txt twin (there is none)
    assert sum(archive_server.requests.values()) == 1 + 248 + 1
    assert source.plain_twins is False
    assert all(state.url.endswith(".txt.gz") for state in states.values())

    # a later run with a volume it has never seen: asked at its .txt.gz at once (remembered)
    archive_server.requests.clear()
    newest = max(states, key=lambda name: states[name].fetched_at)
    del states[newest]
    again = PipermailSource(archive_server.url(TWISTED), fetcher, list_name="twisted-python")
    _sync_all(again, states)
    assert again.plain_twins is False
    assert sum(archive_server.requests.values()) == 1 + 248
    assert not any(path.endswith(".txt") for path in archive_server.requests)


def test_plain_twins_found_by_the_probe_are_used(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path, fetcher: HttpFetcher
) -> None:
    """A server that keeps the plain .txt (Mailman 2 does; its .txt.gz may be stale): the
    probe finds it, and every gzip-only volume is then read from its plain twin."""
    folder = tmp_path / "archive"
    folder.mkdir()
    source_dir = corpus / "pipermail/twisted/divunal-list"
    for name in ("2005-April", "2005-May", "2005-June"):
        data = gzip.decompress((source_dir / f"{name}.txt.gz").read_bytes())
        (folder / f"{name}.txt.gz").write_bytes(gzip.compress(data))
        (folder / f"{name}.txt").write_bytes(data)
    (folder / "index.html").write_text(
        "".join(f'<a href="{n}.txt.gz">{n}</a>' for n in ("2005-April", "2005-May", "2005-June"))
    )
    archive_server.mounts["/pipermail/twins/"] = folder
    source = PipermailSource(archive_server.url("/pipermail/twins/"), fetcher)
    states = _sync_all(source, {})
    assert source.plain_twins is True
    assert all(state.url.endswith(".txt") for state in states.values())
    assert sum(archive_server.requests.values()) == 1 + 3


def test_divunal_first_sync_requests(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    """The stale pair (2007-February: .txt and a shorter .txt.gz, both linked) costs nothing
    more: its plain link is used; the other 32 volumes are asked at their .txt.gz."""
    path = "/pipermail/divunal-list/"
    archive_server.mounts[path] = corpus / "pipermail/twisted/divunal-list"
    archive_server.listings.add(path)
    runner = CliRunner()
    base = ["--data-dir", str(data_dir)]
    url = archive_server.url(path)
    result = runner.invoke(cli, [*base, "lists", "add", "divunal", "--pipermail", url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, [*base, "sync", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["runs"][0]["volumes_fetched"] == 33
    assert sum(archive_server.requests.values()) <= 1 + 33 + 1
    assert archive_server.requests[path + "2007-February.txt"] == 1
    assert archive_server.requests[path + "2007-February.txt.gz"] == 0
