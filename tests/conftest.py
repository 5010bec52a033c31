"""Shared fixtures: the corpus location, a local archive server, settings on tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings, load_settings
from store import accounts
from tests.support.archive_server import ArchiveServer
from tests.support.wheel_fixture import installed  # noqa: F401  (session fixture)

REPO = Path(__file__).resolve().parents[1]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
PIPERMAIL = CORPUS / "pipermail"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LISTARCHIVE_* variable leaks in from the environment; run in a scratch cwd."""
    for name in list(os.environ):
        if name.startswith("LISTARCHIVE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests hash passwords at a low scrypt cost (the real default costs ~0.3 s a hash);
    tests/store/test_accounts.py checks the real default."""
    monkeypatch.setattr(accounts, "hash_cost", accounts.ScryptCost(2**12, 8, 1))


@pytest.fixture()
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS} (expected ../shared/corpus)")
    return CORPUS


@pytest.fixture()
def archive_server() -> Iterator[ArchiveServer]:
    server = ArchiveServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture()
def settings(data_dir: Path) -> Settings:
    return load_settings(env={}, overrides={"data_dir": data_dir, "sync.workers": 1})
