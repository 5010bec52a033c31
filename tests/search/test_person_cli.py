"""`listarchive search person:KEY` finds every address of the person (through the store)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from listarchive.cli import cli
from store import identities, merges
from store.store import Store
from tests.webui.test_search_persons import ADDRESSES, _mbox


def test_cli_person_filter(tmp_path: Path) -> None:
    data = tmp_path / "data"
    volume = str(_mbox(tmp_path / "cars.mbox"))
    store = Store(data / "store.db")
    store.add_list("cars", "mbox", paths=[volume])
    assert sync_list(store, "cars", MboxSource([volume]), workers=1).clean
    keys = []
    for address in ADDRESSES:
        person = identities.get_person(
            store.conn, identities.find_by_address(store.conn, address) or 0
        )
        assert person is not None
        keys.append(person.key)
    merges.merge(store.conn, keys[0], [keys[1]], "test")
    store.close()
    runner = CliRunner()
    assert runner.invoke(cli, ["--data-dir", str(data), "reindex"]).exit_code == 0
    result = runner.invoke(cli, ["--data-dir", str(data), "search", f"person:{keys[1]}", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["total"] == 5
    assert {hit["from_addr"] for hit in payload["hits"]} == set(ADDRESSES)
    unknown = runner.invoke(cli, ["--data-dir", str(data), "search", "person:pnobody"])
    assert unknown.exit_code == 1 and "person:pnobody is not a known person" in unknown.output
