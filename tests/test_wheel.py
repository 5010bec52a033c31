"""The installed package works outside the checkout (issue 12): the wheel ships every data file
its code reads, and a venv made from it syncs, searches (both backends), reindexes and serves
the pages and chart assets (`scripts/smoke-wheel`, which CI also runs on its own)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.settings import ConfigError, load_settings
from listarchive.cli import cli
from scripts import smoke_wheel
from scripts.wheelenv import missing_from_wheel
from search import elastic
from search.base import SearchUnavailableError
from tests.search.conftest import ES_URL, delete_es_indices
from tests.support.es_app import es_env
from tests.support.wheel_fixture import Installed
from webui import create_app, startup

pytestmark = pytest.mark.slow

needs_es = pytest.mark.skipif(
    not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL"
)


def test_wheel_ships_the_package_data(installed: Installed) -> None:
    missing = missing_from_wheel(installed.env.wheel, installed.context)
    assert missing == []


def test_installed_package_smoke(installed: Installed, tmp_path: Path) -> None:
    if not ES_URL and os.environ.get("CI"):
        pytest.fail("CI is set but LISTARCHIVE_TEST_ES_URL is not")
    work = tmp_path / "work"
    work.mkdir()
    done = smoke_wheel.smoke(installed.env, work, ES_URL)
    assert installed.env.venv.resolve() in Path(done[0].rsplit(": ", 1)[1]).resolve().parents
    backends = [line.split(":")[0] for line in done[1:]]
    assert backends == (["sqlite", "elasticsearch"] if ES_URL else ["sqlite"])


@pytest.fixture()
def no_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a wheel built without search/mappings/ (before issue 12)."""
    monkeypatch.setattr(elastic, "MAPPING_NAME", "messages-v0-not-installed.json")


def test_missing_mapping_is_a_clear_search_error(no_mapping: None) -> None:
    with pytest.raises(SearchUnavailableError, match="missing from the installed package"):
        elastic.load_mapping()


@needs_es
def test_missing_mapping_fails_sync_reindex_and_healthz(
    no_mapping: None, corpus: Path, tmp_path: Path
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    env = es_env(prefix)
    data = tmp_path / "data"
    volumes = sorted((corpus / "pipermail/twisted/divunal-devel").glob("*.txt.gz"))[:2]
    runner = CliRunner()
    args = ["--data-dir", str(data)]
    try:
        added = runner.invoke(cli, [*args, "lists", "add", "dd", "--mbox", *map(str, volumes)])
        assert added.exit_code == 0, added.output
        synced = runner.invoke(cli, [*args, "sync"], env=env)
        assert synced.exit_code == 1, synced.output
        assert synced.exception is None or isinstance(synced.exception, SystemExit)
        assert "search index not updated" in synced.output
        assert "messages-v0-not-installed.json is missing" in synced.output
        reindexed = runner.invoke(cli, [*args, "reindex"], env=env)
        assert reindexed.exit_code == 1, reindexed.output
        assert "is missing from the installed package" in reindexed.output
        settings = load_settings(env=env, overrides={"data_dir": data, "web.secure_cookies": False})
        answer = create_app(settings).test_client().get("/healthz")
        assert answer.status_code == 503
        body = answer.get_json()
        assert body["status"] == "unhealthy"
        assert "is missing from the installed package" in body["checks"]["index"]["error"]
    finally:
        delete_es_indices(prefix)


def test_web_refuses_to_start_without_its_templates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A package without webui/templates answered 500 on every page with /healthz ok."""
    monkeypatch.setattr(startup, "PACKAGE_FILES", (*startup.PACKAGE_FILES, "templates/x.html"))
    settings = load_settings(env={}, overrides={"data_dir": tmp_path / "data"})
    with pytest.raises(ConfigError, match=r"templates/x\.html missing from the installed"):
        create_app(settings)
