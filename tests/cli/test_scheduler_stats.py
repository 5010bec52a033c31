"""The scheduler prepares the statistics dashboards after a run that stored messages
(`listarchive.scheduler.prepare_statistics`, `webui.stats_prepare`): their figures are in the
store, for the archive's current state, before any web request."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from listarchive.cli import cli
from store import figure_cache


def _kept(data: Path) -> tuple[int, set[str], str]:
    conn = sqlite3.connect(data / "store.db")
    try:
        rows = conn.execute("SELECT state FROM figure_cache").fetchall()
        return len(rows), {str(r[0]) for r in rows}, figure_cache.state(conn)
    finally:
        conn.close()


def test_a_run_that_stored_messages_prepares_the_dashboards(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    box = corpus / "mbox/apache-ponymail/ponymail-dev-1079-mboxvm.mbox"
    runner = CliRunner()
    added = runner.invoke(cli, ["--data-dir", str(data), "lists", "add", "dev", "--mbox", str(box)])
    assert added.exit_code == 0, added.output
    result = runner.invoke(cli, ["--data-dir", str(data), "scheduler", "--once"])
    assert result.exit_code == 0, result.output
    count, states, current = _kept(data)
    # anonymous and facilitator /stats (one scope: no chooser), people (figures and
    # suggestions), responses, network, cohorts
    assert count >= 7, count
    assert states == {current}
