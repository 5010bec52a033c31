"""Two pipermail lists from the corpus, served over local HTTP and synced (three volumes with
their per-message HTML pages), for the article map and the redirect tests."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from tests.support.archive_server import ArchiveServer

VOLUMES = {
    "twisted-python": ("2018-October", "1945-February"),
    "twisted-web": ("2007-January",),
}


def serve_and_sync(server: ArchiveServer, corpus: Path, tmp_path: Path) -> Path:
    """Copy the volumes and their HTML folders into tmp, serve, add the lists (ours are named
    `tp` and `tw`: the old host's names differ) and sync; returns the data directory."""
    data = tmp_path / "data"
    runner = CliRunner()
    for old_name, periods in VOLUMES.items():
        source = corpus / "pipermail/twisted" / old_name
        site = tmp_path / "site" / old_name
        site.mkdir(parents=True)
        for period in periods:
            shutil.copy(source / f"{period}.txt.gz", site)
            shutil.copytree(source / period, site / period)
        path = f"/pipermail/{old_name}/"
        server.mounts[path] = site
        ours = "tp" if old_name == "twisted-python" else "tw"
        added = runner.invoke(
            cli, ["--data-dir", str(data), "lists", "add", ours, "--pipermail", server.url(path)]
        )
        assert added.exit_code == 0, added.output
    synced = runner.invoke(cli, ["--data-dir", str(data), "sync", "--json"])
    assert synced.exit_code == 0, synced.output
    assert all(run["volumes_failed"] == 0 for run in json.loads(synced.stdout)["runs"])
    return data


def build_map(data: Path, name: str, *options: str) -> dict[str, object]:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data), "pipermail-map", name, "--json", *options]
    )
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def synced_and_mapped(corpus: Path, tmp_path: Path, name: str = "tp") -> Path:
    """`serve_and_sync` with no LISTARCHIVE_ variable from the environment, then the list
    `name` mapped (`build_map`); the archive server is stopped before returning (the web UI
    never calls the old host).  The data directory."""
    server = ArchiveServer()
    server.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for variable in list(os.environ):
                if variable.startswith("LISTARCHIVE_"):
                    patch.delenv(variable)
            path = serve_and_sync(server, corpus, tmp_path)
            build_map(path, name)
    finally:
        server.stop()
    return path
