"""`listarchive search` leaves out a removed message whose document the index still holds (a
removal the index was not caught up with: issue 14, task CL3), as the web does, on both
backends: no hit, and the total counts without it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from store import removals
from store.store import Store
from tests.cli.test_cli import invoke
from tests.search.conftest import BACKENDS, delete_es_indices
from tests.support.es_app import es_env
from tests.webui.test_removal_walk import _build

REMOVED = "Quokka marzipan plan"


def _search(data: Path, query: str, env: dict[str, str]) -> dict[str, object]:
    found = invoke(data, "search", query, "--json", env=env)
    assert found.exit_code == 0, found.output
    answer = json.loads(found.stdout)
    assert isinstance(answer, dict)
    return answer


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_removal_the_index_missed_is_no_hit(tmp_path: Path, backend: str) -> None:
    archive = _build(tmp_path)  # indexed into the embedded index
    env: dict[str, str] = {}
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    if backend == "elasticsearch":
        env = es_env(prefix)
        assert invoke(archive.data, "reindex", env=env).exit_code == 0
    try:
        key = archive.keys[REMOVED]
        before = _search(archive.data, "quokkasecret", env)
        assert [hit["id"] for hit in before["hits"]] == [key]  # type: ignore[attr-defined]
        everything = _search(archive.data, "after:1990", env)["total"]
        store = Store(archive.data / "store.db")
        try:  # removed in the store, the index not told (as a failed refresh leaves it)
            removals.remove(store.conn, "message", key, [key], reason="r", actor="test")
        finally:
            store.close()
        after = _search(archive.data, "quokkasecret", env)
        assert after["total"] == 0 and after["hits"] == []
        assert REMOVED not in json.dumps(_search(archive.data, "marzipan", env))
        assert _search(archive.data, "after:1990", env)["total"] == everything - 1  # type: ignore[operator]
    finally:
        if backend == "elasticsearch":
            delete_es_indices(prefix)
