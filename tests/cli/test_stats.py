"""`listarchive stats`: the aggregate figures of `/stats`, the same numbers as the web page."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from config.settings import load_settings
from listarchive.cli import cli
from webui import create_app

USRP = "hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz"


def _run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_stats_matches_the_public_page(corpus: Path, data_dir: Path) -> None:
    _run(data_dir, "lists", "add", "usrp", "--mbox", str(corpus / USRP))
    _run(data_dir, "sync")
    out = json.loads(_run(data_dir, "stats", "--json"))
    # 719 messages from 121 senders (checked with the stdlib in tests/store/test_identities.py)
    assert out["totals"]["messages"] == 719 and out["totals"]["participants"] == 121
    assert [p["period"] for p in out["periods"]] == ["2021-03", "2021-04", "2021-05"]
    assert sum(p["messages"] for p in out["periods"]) == 719
    assert sum(p["newcomers"] for p in out["periods"]) == 121
    page = create_app(load_settings(env={}, overrides={"data_dir": data_dir})).test_client()
    web = page.get("/stats.json").get_json()
    assert out["totals"] == web["totals"]
    assert out["responses"] == web["responses"]
    assert [(p["period"], p["messages"], p["participants"]) for p in out["periods"]] == [
        (a["period"], a["messages"], a["participants"]) for a in web["activity"]
    ]
    april = json.loads(
        _run(data_dir, "stats", "--json", "--start", "2021-04-01", "--end", "2021-04-30")
    )
    assert april["totals"]["messages"] == out["periods"][1]["messages"]
    text = _run(data_dir, "stats")
    assert text.startswith("usrp: 719 messages")
    bad = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "stats", "--list", "nosuch"])
    assert bad.exit_code == 2 and "unknown list" in bad.output
