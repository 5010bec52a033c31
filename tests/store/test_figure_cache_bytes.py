"""The figures kept in the store are bounded in bytes as well as in entries (issue 14, CL2:
`web.figure_cache_bytes`): past the bound the least recently kept go first, one value larger
than the bound alone is not kept, and what is kept reads back the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings
from store import figure_cache
from store.store import Store


@pytest.fixture
def store(data_dir: Path) -> Store:
    return Store(data_dir / "store.db")


def _keys(store: Store) -> list[str]:
    rows = store.conn.execute("SELECT key FROM figure_cache ORDER BY used").fetchall()
    return [str(r[0]) for r in rows]


def test_past_the_byte_bound_the_oldest_figures_go(store: Store) -> None:
    current = figure_cache.state(store.conn)
    value = '{"figure": "' + "x" * 980 + '"}'  # 994 bytes
    for n in range(5):
        assert figure_cache.put(store.path, f"k{n}", current, value, max_bytes=3000)
    assert _keys(store) == ["k2", "k3", "k4"]  # 3 x 994 <= 3000 < 4 x 994
    assert figure_cache.get(store.conn, "k4", current) == value
    assert figure_cache.get(store.conn, "k1", current) is None
    # a value larger than the bound alone is not kept, and drops nothing
    assert not figure_cache.put(store.path, "big", current, "y" * 3001, max_bytes=3000)
    assert _keys(store) == ["k2", "k3", "k4"]
    # the default bound keeps them all
    for n in range(5, 10):
        assert figure_cache.put(store.path, f"k{n}", current, value)
    assert len(_keys(store)) == 8
    store.close()


def test_a_figure_kept_as_text_before_still_reads_back(store: Store) -> None:
    current = figure_cache.state(store.conn)
    store.conn.execute(
        "INSERT INTO figure_cache (key, state, used, value) VALUES ('old', ?, 1, '{\"a\": 1}')",
        (current,),
    )
    assert figure_cache.get(store.conn, "old", current) == '{"a": 1}'
    assert figure_cache.put(store.path, "new", current, '{"b": 2}', max_bytes=10)
    assert _keys(store) == ["new"]  # the old one's 8 characters and the new one's 8 > 10
    kind = store.conn.execute("SELECT typeof(value) FROM figure_cache").fetchone()[0]
    assert kind == "blob"  # its length read from the row's header (module text)
    store.close()


def test_the_byte_bound_is_a_checked_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(env={})["web.figure_cache_bytes"] == figure_cache.MAX_BYTES
    env = {"LISTARCHIVE_WEB_FIGURE_CACHE_BYTES": "4096"}
    assert load_settings(env=env)["web.figure_cache_bytes"] == 4096
    with pytest.raises(ConfigError, match="web.figure_cache_bytes must be at least 1"):
        load_settings(env={"LISTARCHIVE_WEB_FIGURE_CACHE_BYTES": "0"})


def test_the_web_keeps_figures_within_the_setting(data_dir: Path, tmp_path: Path) -> None:
    from tests.support.stores import sync_mbox
    from webui import create_app

    store = Store(data_dir / "store.db")
    box = tmp_path / "a.mbox"
    box.write_text(
        "".join(
            f"From p{n}@example.org Mon Jan  1 00:00:00 2001\nFrom: p{n}@example.org\n"
            f"Message-ID: <m{n}@example.org>\nSubject: s{n}\n"
            f"Date: Mon, {n + 1} Jan 2001 00:00:00 +0000\n\nbody {n}\n\n"
            for n in range(5)
        )
    )
    sync_mbox(store, "a", [str(box)])
    store.close()
    overrides = {"data_dir": data_dir, "web.figure_cache_bytes": 1}
    app = create_app(load_settings(env={}, overrides=overrides))
    app.config["STATS_FIGURE_CACHE"] = True
    client = app.test_client()
    assert client.get("/stats.json").status_code == 200
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        assert conn.execute("SELECT count(*) FROM figure_cache").fetchone()[0] == 0
    finally:
        conn.close()
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    app.config["STATS_FIGURE_CACHE"] = True
    assert app.test_client().get("/stats.json").status_code == 200
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        assert conn.execute("SELECT count(*) FROM figure_cache").fetchone()[0] >= 1
    finally:
        conn.close()
