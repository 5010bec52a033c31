"""`listarchive sync` prepares the statistics after a run that stored messages, as the
scheduler does (issue 14, task PR: `listarchive.preparing`), in a store of
`analytics.snapshot_min_posts` messages or more: the dashboards' figures are in the store,
for the archive's current state, before any web request; `--no-prepare` or a smaller store
leave them to the first visitor; a failing preparation is a line of the summary (and the JSON's
`statistics`), never a failed sync."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from listarchive.cli import cli
from tests.cli.test_scheduler_stats import _kept

BOX = "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
SMALL = 1  # the mbox holds one message


@pytest.fixture(autouse=True)
def _prepare_after_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    # a store of this many messages or more is prepared after a sync by hand
    monkeypatch.setenv("LISTARCHIVE_ANALYTICS_SNAPSHOT_MIN_POSTS", str(SMALL))


def _run(data: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


@pytest.fixture
def data(corpus: Path, tmp_path: Path) -> Path:
    path = tmp_path / "data"
    added = _run(path, "lists", "add", "dev", "--mbox", str(corpus / BOX))
    assert added.exit_code == 0, added.output
    return path


def _sync_json(data: Path, *args: str) -> dict[str, Any]:
    result = _run(data, "sync", "--json", *args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_a_sync_that_stored_messages_prepares_the_dashboards(data: Path) -> None:
    payload = _sync_json(data)
    assert payload["runs"][0]["new_messages"] > 0
    prepared = payload["statistics"]
    assert prepared["status"] == "done" and prepared["error"] == "", prepared
    count, states, current = _kept(data)
    # anonymous and facilitator /stats, people, responses, network, cohorts (as the scheduler)
    assert count >= 7 and prepared["pages"] >= 7, (count, prepared)
    assert states == {current}
    again = _sync_json(data)  # nothing new: nothing to prepare, the figures stay
    assert again["statistics"] is None
    assert _kept(data) == (count, states, current)


def test_no_prepare_leaves_the_dashboards_to_their_first_visitor(data: Path) -> None:
    payload = _sync_json(data, "--no-prepare")
    assert payload["runs"][0]["new_messages"] > 0
    assert payload["statistics"] is None
    assert _kept(data)[0] == 0


def test_a_store_below_the_bound_is_left_to_its_first_visitor(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTARCHIVE_ANALYTICS_SNAPSHOT_MIN_POSTS", "1000000")
    payload = _sync_json(data)
    assert payload["runs"][0]["new_messages"] > 0
    assert payload["statistics"] is None
    assert _kept(data)[0] == 0


def test_the_summary_says_the_preparation(data: Path) -> None:
    result = _run(data, "sync")
    assert result.exit_code == 0, result.output
    assert "statistics: " in result.stdout and " pages prepared in " in result.stdout


def test_a_failing_preparation_is_a_line_not_a_failed_sync(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webui import stats_prepare

    def broken(_app: object) -> int:
        raise RuntimeError("no figures today")

    monkeypatch.setattr(stats_prepare, "prepare", broken)
    result = _run(data, "sync")
    assert result.exit_code == 0, result.output
    assert "statistics not prepared: no figures today" in result.stderr
    assert _kept(data)[0] == 0
    payload = _sync_json(data)  # nothing new: no preparation, no failure
    assert payload["statistics"] is None
