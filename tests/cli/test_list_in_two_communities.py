"""A list may belong to several communities (a forum and its umbrella): adding it to a second
community, from the CLI or the TOML file, never empties the first, and every consumer of
community membership (audit, stats, search on both backends, the web UI) counts it in each."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from config.settings import load_settings
from listarchive.cli import cli
from store import communities
from store.schema import MIGRATIONS
from store.store import Store
from tests.search.conftest import ES_URL, delete_es_indices
from tests.support.es_app import es_env
from tests.support.webauth import login
from webui import create_app

FORUM = ("divunal-author", "divunal-devel")
UMBRELLA = ("divunal-author", "divunal-devel", "reality")


def _run(data: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args], env=env)


def _ok(data: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    result = _run(data, *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def _volumes(corpus: Path, name: str) -> list[str]:
    return [str(p) for p in sorted((corpus / "pipermail/twisted" / name).glob("*.txt.gz"))]


@pytest.fixture()
def data(corpus: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for name in UMBRELLA:
        _ok(data, "lists", "add", name, "--mbox", *_volumes(corpus, name))
    _ok(data, "sync")
    return data


def _lists_of(data: Path) -> dict[str, list[str]]:
    return {c["name"]: c["lists"] for c in _ok(data, "communities", "--json")}


def test_cli_second_community_keeps_the_first(data: Path) -> None:
    _ok(data, "communities", "add", "divunal", "--lists", ",".join(FORUM))
    _ok(data, "communities", "add", "twisted", "--lists", ",".join(UMBRELLA))
    assert _lists_of(data) == {"divunal": list(FORUM), "twisted": list(UMBRELLA)}
    text = _ok(data, "communities")
    assert "divunal: divunal-author, divunal-devel" in text
    assert "twisted: divunal-author, divunal-devel, reality" in text

    # the forum's audit still works (it exited 2 when the umbrella had emptied it)
    audit = _ok(data, "audit", "divunal", "--json")
    assert (audit["old_list"], audit["new_list"]) == ("divunal-author", "divunal-devel")

    # statistics and search see the list in both communities
    for name, members in (("divunal", FORUM), ("twisted", UMBRELLA)):
        scope = _ok(data, "stats", "--community", name, "--json")["scope"]
        assert scope["lists"] == list(members)
    forum = _ok(data, "search", "--community", "divunal", "after:1970", "--json")["total"]
    umbrella = _ok(data, "search", "--community", "twisted", "after:1970", "--json")["total"]
    every = " OR ".join(f"list:{n}" for n in UMBRELLA) + " after:1970"
    assert 0 < forum < umbrella == _ok(data, "search", every, "--json")["total"]

    # lists: the first community stays `community`, `communities` has them all
    rows = {r["name"]: r for r in _ok(data, "lists", "--json")}
    assert rows["divunal-devel"]["community"] == "divunal"
    assert rows["divunal-devel"]["communities"] == ["divunal", "twisted"]
    assert rows["reality"]["communities"] == ["twisted"]

    # `lists add --community C` adds a membership, re-pointing keeps the others
    volumes = rows["reality"]["source"]
    _ok(data, "lists", "add", "reality", "--mbox", *volumes, "--community", "fiction")
    _ok(data, "lists", "add", "reality", "--mbox", *volumes)
    rows = {r["name"]: r for r in _ok(data, "lists", "--json")}
    assert rows["reality"]["communities"] == ["fiction", "twisted"]
    assert _lists_of(data)["fiction"] == ["reality"]

    # redeclaring a community replaces its own lists only
    _ok(data, "communities", "add", "twisted", "--lists", "reality")
    assert _lists_of(data)["divunal"] == list(FORUM)
    assert _lists_of(data)["twisted"] == ["reality"]


def test_web_counts_the_list_in_both_communities(data: Path) -> None:
    _ok(data, "communities", "add", "divunal", "--lists", ",".join(FORUM))
    _ok(data, "communities", "add", "twisted", "--lists", ",".join(UMBRELLA))
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    client = app.test_client()
    for name, members in (("divunal", FORUM), ("twisted", UMBRELLA)):
        scope = client.get(f"/stats.json?community={name}").get_json()["scope"]
        assert scope["lists"] == list(members)
    listing = client.get("/lists/divunal-devel.json").get_json()
    assert listing["list"]["community"] == "divunal"
    assert listing["list"]["communities"] == ["divunal", "twisted"]
    login(client, app, "secretariat")
    audits = {c["name"]: c["lists"] for c in client.get("/audit.json").get_json()["communities"]}
    assert audits == {"divunal": list(FORUM), "twisted": list(UMBRELLA)}
    assert client.get("/audit/divunal.json").status_code == 200


def test_toml_communities_share_a_list(data: Path, tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    config.write_text(
        f'data_dir = "{data}"\n'
        f"[communities.divunal]\nlists = {json.dumps(list(FORUM))}\n"
        f"[communities.twisted]\nlists = {json.dumps(list(UMBRELLA))}\n"
    )
    runner = CliRunner()
    for _ in range(2):  # applying the file again changes nothing
        result = runner.invoke(cli, ["--config", str(config), "communities", "--json"])
        assert result.exit_code == 0, result.output
        rows = {c["name"]: c["lists"] for c in json.loads(result.stdout)}
        assert rows == {"divunal": list(FORUM), "twisted": list(UMBRELLA)}
    result = runner.invoke(cli, ["--config", str(config), "audit", "divunal", "--json"])
    assert result.exit_code == 0, result.output


def test_toml_list_community_joins_a_declared_community(corpus: Path, tmp_path: Path) -> None:
    """`[lists.X] community = "C"` and `[communities.C]` that does not name X: X is a member
    (the file is not applied back and forth on each start)."""
    data = tmp_path / "data"
    config = tmp_path / "la.toml"
    config.write_text(
        f'data_dir = "{data}"\n'
        f"[lists.reality]\nmbox = {json.dumps(_volumes(corpus, 'reality'))}\n"
        'community = "twisted"\n'
        f"[lists.divunal-devel]\nmbox = {json.dumps(_volumes(corpus, 'divunal-devel'))}\n"
        'community = "divunal"\n'
        '[communities.twisted]\nlists = ["divunal-devel"]\n'
    )
    for _ in range(2):
        result = CliRunner().invoke(cli, ["--config", str(config), "communities", "--json"])
        assert result.exit_code == 0, result.output
        rows = {c["name"]: c["lists"] for c in json.loads(result.stdout)}
        assert rows == {"divunal": ["divunal-devel"], "twisted": ["divunal-devel", "reality"]}


def test_migration_keeps_single_memberships(tmp_path: Path) -> None:
    """A store made before lists could be in several communities (lists.community) keeps
    every membership when it is opened."""
    mine = next(i for i, script in enumerate(MIGRATIONS) if "list_communities" in script)
    path = tmp_path / "store.db"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:mine], start=1):
        conn.executescript("BEGIN;" + script + ";COMMIT;")
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(number),),
        )
    for name, community in (("a", "forum"), ("b", "forum"), ("c", "")):
        conn.execute(
            "INSERT INTO lists (name, source, community, created_at) VALUES (?, 'mbox', ?, '')",
            (name, community),
        )
    conn.execute(
        "INSERT INTO communities (name, cutover, created_at) VALUES ('forum', '2001-01-01', '')"
    )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        found = communities.all_communities(store.conn)
        assert [(c.name, c.lists, c.cutover) for c in found] == [
            ("forum", ("a", "b"), "2001-01-01")
        ]
        communities.upsert(store.conn, "umbrella", ["a", "c"])
        assert {c.name: c.lists for c in communities.all_communities(store.conn)} == {
            "forum": ("a", "b"),
            "umbrella": ("a", "c"),
        }
        by_name = {info.name: info for info in store.lists()}
        assert (by_name["a"].community, by_name["a"].communities) == (
            "forum",
            ("forum", "umbrella"),
        )
        assert (by_name["c"].community, by_name["c"].communities) == ("umbrella", ("umbrella",))
    finally:
        store.close()


@pytest.mark.skipif(not ES_URL, reason="no Elasticsearch node: set LISTARCHIVE_TEST_ES_URL")
def test_elasticsearch_community_search(data: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    env = es_env(prefix)
    try:
        _ok(data, "communities", "add", "divunal", "--lists", ",".join(FORUM))
        _ok(data, "communities", "add", "twisted", "--lists", ",".join(UMBRELLA))
        _ok(data, "reindex", env=env)
        totals = {
            name: _ok(data, "search", "--community", name, "after:1970", "--json", env=env)["total"]
            for name in ("divunal", "twisted")
        }
        every = " OR ".join(f"list:{n}" for n in UMBRELLA) + " after:1970"
        assert 0 < totals["divunal"] < totals["twisted"]
        assert totals["twisted"] == _ok(data, "search", every, "--json", env=env)["total"]
    finally:
        delete_es_indices(prefix)
