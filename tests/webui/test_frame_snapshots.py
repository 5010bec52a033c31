"""Frame snapshots kept in the store (`analytics.frame_snapshot`, `store.frame_snapshots`,
issue 14, task FS), on a copy of the web UI test store (real corpus mail: the public
`reality` list and the private `divunal-author`): a frame read from its snapshot equals the
frame loaded from SQL for every scope (anonymous and private, each list, bots marked, left
out and included); after a sync, a merge and a removal no snapshot of the state before is
used; a damaged or foreign blob is ignored; the bounds hold; every dashboard answers the
same with snapshots off, on and written, and on and read back."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics import facts, frame, frame_snapshot, frame_snapshot_writer
from analytics.frame import Frame
from analytics.scope import Scope, resolve_scope
from config.settings import load_settings
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import bots, figure_cache, frame_snapshots, merges, removals
from store.store import Store
from tests.support.webauth import login
from tests.webui.conftest import PRIVATE, PUBLIC
from tests.webui.test_stats_figures import _answers, _new_reply
from webui import create_app, stats_prepare


def _app(data: Path, cache: bool, snapshots: bool | None = None) -> Any:
    """The web UI on `data`, snapshotting every frame however small; `cache`: the figures
    kept in the store, `snapshots`: the frame snapshots (unset: as `cache`)."""
    overrides = {"data_dir": data, "analytics.snapshot_min_posts": 0}
    app = create_app(load_settings(env={}, overrides=overrides))
    app.config["STATS_FIGURE_CACHE"] = cache
    if snapshots is not None:
        app.config["FRAME_SNAPSHOTS"] = snapshots
    return app


def _fresh() -> None:
    """A fresh process: no frame or facts cached in this one."""
    frame.clear_cache()
    facts.clear_cache()


@pytest.fixture()
def data(webui_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # a request's snapshot is written after it (task PR): here at its teardown, in its
    # thread, so that the next request finds it (tests/webui/test_snapshot_writer.py: the
    # writer thread, its queue)
    monkeypatch.setattr(frame_snapshot_writer, "_enqueue", lambda job: job() or True)
    copy = tmp_path / "data"
    shutil.copytree(webui_data, copy)
    # a fresh state: figures or frames another test kept in the shared store are not this one's
    # (their rows would answer the pages, so no frame would be loaded nor snapshotted)
    kept = sqlite3.connect(copy / "store.db")
    try:
        with kept:
            kept.execute("DELETE FROM figure_cache")
            kept.execute("DELETE FROM frame_snapshots")
    finally:
        kept.close()
    login(_app(copy, cache=False).test_client(), copy, "facilitator", username="figures")
    limits = dict(frame_snapshot.LIMITS)
    allowed = list(frame_snapshot._ALLOWED)
    frame_snapshot.configure(0, 64 * 2**20)  # every frame, however small
    _fresh()
    yield copy
    frame_snapshot.configure(limits["min_posts"], limits["max_bytes"])
    frame_snapshot._ALLOWED[:] = allowed
    _fresh()


@pytest.fixture()
def conn(data: Path) -> Iterator[sqlite3.Connection]:
    found = sqlite3.connect(f"file:{data / 'store.db'}?mode=ro", uri=True)
    yield found
    found.close()


def _scopes(conn: sqlite3.Connection) -> list[Scope]:
    found = []
    for private in (False, True):
        for bots_in in (False, True):
            found.append(resolve_scope(conn, include_private=private, include_bots=bots_in))
        found.append(resolve_scope(conn, lists=[PUBLIC], include_private=private))
    found.append(resolve_scope(conn, lists=[PRIVATE], include_private=True))
    return found


def _fields(found: Frame) -> tuple[Any, ...]:
    return (
        found.scope,
        found.posts,
        found.undated,
        found.persons,
        found.threads,
        found.list_names,
        found.undated_by,
        found.bot_posts,
    )


def _from_sql(conn: sqlite3.Connection, scope: Scope) -> tuple[Any, ...]:
    """What `load_frame` answers with no snapshot (none read, none written)."""
    _fresh()
    frame_snapshot._ALLOWED[:] = [lambda: False]
    try:
        return _fields(frame.load_frame(conn, scope))
    finally:
        frame_snapshot._ALLOWED[:] = []
        _fresh()


def _no_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: Any) -> Frame:
        raise AssertionError("the frame was loaded from SQL, not from its snapshot")

    monkeypatch.setattr(frame, "_load", refused)


def _write_all(conn: sqlite3.Connection) -> None:
    """Load every scope's frame (from SQL: each written as a snapshot), then forget them."""
    for scope in _scopes(conn):
        frame.load_frame(conn, scope)
    _fresh()


def _rows(data: Path) -> list[tuple[str, str, int]]:
    db = sqlite3.connect(data / "store.db")
    try:
        return db.execute(
            "SELECT key, state, length(value) FROM frame_snapshots "
            "WHERE key NOT LIKE 'bot-scores;%' AND key NOT LIKE 'kept;%' "
            "ORDER BY key"  # the frames' rows (not task BS's scores nor DB3's kept results)
        ).fetchall()
    finally:
        db.close()


def _mark_a_bot(data: Path) -> None:
    db = sqlite3.connect(data / "store.db")
    key = db.execute(
        "SELECT p.key FROM persons p JOIN identities i ON i.person = p.id "
        "JOIN messages m ON m.identity = i.id GROUP BY p.id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    db.close()
    store = Store(data / "store.db")
    try:
        bots.mark(store.conn, key, "test")
    finally:
        store.close()


def test_frames_from_snapshots_equal_the_frames_from_sql(
    data: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mark_a_bot(data)
    scopes = _scopes(conn)
    expected = [_from_sql(conn, scope) for scope in scopes]
    assert expected[0][7] > 0 and expected[1][7] > 0  # a marked bot's posts, left out or in
    assert expected[0][1] != expected[3][1]  # the private list's posts are the reader's only
    _write_all(conn)
    rows = _rows(data)
    assert len(rows) == 4  # public/private x every list/one list, +1: the private list alone
    for scope in scopes:  # each scope's snapshot decodes to the very frame
        key = frame._cache_key(conn, scope)
        loaded = frame._load(conn, scope)
        blob = frame_snapshot.encode(loaded, frame_snapshot.scope_key(conn, key))
        assert blob is not None
        again = frame_snapshot.decode(blob, frame_snapshot.scope_key(conn, key), scope)
        assert _fields(again) == _fields(loaded)
    _fresh()
    with monkeypatch.context() as patched:
        _no_sql(patched)
        for scope, answer in zip(scopes, expected, strict=True):
            assert _fields(frame.load_frame(conn, scope)) == answer, scope.label


def test_no_snapshot_of_an_earlier_state_is_used(
    data: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def check(change: str) -> None:
        expected = [_from_sql(conn, scope) for scope in _scopes(conn)]
        for scope, answer in zip(_scopes(conn), expected, strict=True):
            assert _fields(frame.load_frame(conn, scope)) == answer, (change, scope.label)
        _fresh()
        states = {state for _key, state, _size in _rows(data)}
        assert states == {frame_snapshot.state_of(frame._cache_key(conn, _scopes(conn)[0]))}
        with monkeypatch.context() as patched:
            _no_sql(patched)
            for scope, answer in zip(_scopes(conn), expected, strict=True):
                assert _fields(frame.load_frame(conn, scope)) == answer, (change, scope.label)
        _fresh()

    _write_all(conn)
    before = _from_sql(conn, _scopes(conn)[0])
    store = Store(data / "store.db")
    try:
        sync_list(store, PUBLIC, MboxSource([str(_new_reply(data, store.conn))]), workers=1)
    finally:
        store.close()
    assert _from_sql(conn, _scopes(conn)[0])[1] != before[1]
    check("sync")

    store = Store(data / "store.db")
    try:
        two = store.conn.execute(
            "SELECT p.key FROM persons p JOIN identities i ON i.person = p.id "
            "JOIN messages m ON m.identity = i.id GROUP BY p.id ORDER BY count(*) DESC LIMIT 2"
        ).fetchall()
        merges.merge(store.conn, two[0][0], [two[1][0]], "test")
    finally:
        store.close()
    check("merge")

    store = Store(data / "store.db")
    try:
        thread = next(p.thread for p in frame._load(conn, _scopes(conn)[0]).posts if p.parent)
        keys = removals.keys_for_thread(store.conn, thread)
        removals.remove(store.conn, "thread", thread, keys, reason="test", actor="test")
    finally:
        store.close()
    assert _rows(data) == []  # the snapshots named the thread: they go with it, not later
    check("removal")


def test_names_are_the_stored_ones(
    data: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person renamed without a new state of the archive (`identities.refresh_names`:
    stale names after a sync, new naming rules on a writer's open) is named as stored now,
    not as in the snapshot."""
    scope = resolve_scope(conn, include_private=True)
    first = frame.load_frame(conn, scope)  # written
    person = next(iter(first.persons.values()))
    _fresh()
    db = sqlite3.connect(data / "store.db")
    with db:
        db.execute("UPDATE persons SET name = 'Renamed Person' WHERE id = ?", (person.id,))
    db.close()
    with monkeypatch.context() as patched:
        _no_sql(patched)
        again = frame.load_frame(conn, scope)
    assert again.persons[person.id].name == "Renamed Person"
    assert _fields(again) == _from_sql(conn, scope)


def _blob_row(data: Path) -> tuple[str, str, bytes]:
    db = sqlite3.connect(data / "store.db")
    try:
        key, state, value = db.execute(
            "SELECT key, state, value FROM frame_snapshots WHERE key LIKE '%private=1%' "
            "ORDER BY length(value) DESC LIMIT 1"
        ).fetchone()
        return str(key), str(state), bytes(value)
    finally:
        db.close()


def _replace(data: Path, key: str, value: bytes) -> None:
    db = sqlite3.connect(data / "store.db")
    with db:
        db.execute("UPDATE frame_snapshots SET value = ? WHERE key = ?", (value, key))
    db.close()


def test_damaged_or_foreign_snapshots_are_ignored(
    data: Path, conn: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    _write_all(conn)
    key, _state, blob = _blob_row(data)
    other = next(k for k, _s, _n in _rows(data) if k != key)
    foreign = _blob_row_of(data, other)
    scope = resolve_scope(conn, include_private=True)
    expected = _from_sql(conn, scope)
    header_at = len(frame_snapshot.MAGIC) + 4
    bad = {
        "truncated": blob[: len(blob) // 2],
        "a byte changed": blob[:-10] + bytes([blob[-10] ^ 1]) + blob[-9:],
        "another scope's": foreign,
        "not one at all": b"\x80\x04garbage",
        "empty": b"",
        "a forged checksum, sizes past the end": _forged(blob, header_at),
        "a forged checksum, a header nested past the parser": _nested(),
    }
    for what, value in bad.items():
        _replace(data, key, value)
        with pytest.raises(frame_snapshot.SnapshotError):
            frame_snapshot.decode(value, key, scope)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="analytics.frame_snapshot"):
            assert _fields(frame.load_frame(conn, scope)) == expected, what
        assert "ignored" in caplog.text, what
        _fresh()


def _blob_row_of(data: Path, key: str) -> bytes:
    db = sqlite3.connect(data / "store.db")
    try:
        value = db.execute("SELECT value FROM frame_snapshots WHERE key = ?", (key,)).fetchone()
        return bytes(value[0])
    finally:
        db.close()


def _forged(blob: bytes, header_at: int) -> bytes:
    """`blob` with its first column declared larger than it is, and a checksum that fits."""
    import json
    import zlib

    (length,) = struct.unpack_from("<Q", blob, header_at)
    start = header_at + 8
    header = json.loads(blob[start : start + length])
    header["sections"][5][3] += 1000  # the ids column: 1000 values more than it holds
    text = json.dumps(header).encode()
    body = struct.pack("<Q", len(text)) + text + blob[start + length :]
    return frame_snapshot.MAGIC + struct.pack("<I", zlib.crc32(body)) + body


def _nested() -> bytes:
    import zlib

    text = b"[" * 100_000
    body = struct.pack("<Q", len(text)) + text
    return frame_snapshot.MAGIC + struct.pack("<I", zlib.crc32(body)) + body


def test_bounds_and_a_busy_store(data: Path, conn: sqlite3.Connection) -> None:
    scope = resolve_scope(conn, include_private=True)
    key = frame._cache_key(conn, scope)
    loaded = frame._load(conn, scope)
    blob = frame_snapshot.encode(loaded, frame_snapshot.scope_key(conn, key))
    assert blob is not None
    frame_snapshot.configure(len(loaded.posts) + 1, 64 * 2**20)
    assert not frame_snapshot.keep(conn, loaded, key)  # too few posts
    frame_snapshot.configure(0, len(blob) - 1)
    assert not frame_snapshot.keep(conn, loaded, key)  # larger than the bound
    assert _rows(data) == []
    frame_snapshot.configure(0, len(blob) + 10)
    assert frame_snapshot.keep(conn, loaded, key)
    public = resolve_scope(conn, lists=[PUBLIC])
    frame.load_frame(conn, public)  # written: the other one dropped to stay in the bound
    public_key = frame_snapshot.scope_key(conn, frame._cache_key(conn, public))
    assert [k for k, _s, _n in _rows(data)] == [public_key]
    small = _rows(data)[0][2]
    frame_snapshot.configure(0, len(blob) + small + 10)
    assert frame_snapshot.keep(conn, loaded, key)  # both fit
    public_at = frame._cache_key(conn, public)
    assert frame_snapshot.keep(conn, frame._load(conn, public), public_at)  # now the newest
    assert len(_rows(data)) == 2
    other = resolve_scope(conn, lists=[PRIVATE], include_private=True)
    frame.load_frame(conn, other)  # the smallest other dropped, not the largest
    assert public_key not in [k for k, _s, _n in _rows(data)]
    assert frame_snapshot.scope_key(conn, key) in [k for k, _s, _n in _rows(data)]
    frame_snapshot.configure(0, 0)  # none read, none written
    _fresh()
    assert frame_snapshot.read(conn, public, frame._cache_key(conn, public)) is None
    frame_snapshot.configure(0, 64 * 2**20)
    writer = sqlite3.connect(data / "store.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a sync writing
    try:
        started = time.monotonic()
        assert not frame_snapshot.keep(conn, loaded, key)
        assert time.monotonic() - started < 5  # did not wait for the writer's timeout
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_dashboards_answer_the_same_with_snapshots_off_and_on(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(_app(data, cache=False, snapshots=False), data)  # figures computed
    assert _rows(data) == []
    _fresh()
    written = _answers(_app(data, cache=False, snapshots=True), data)
    assert len(_rows(data)) >= 3
    _fresh()
    with monkeypatch.context() as patched:
        _no_sql(patched)
        read_back = _answers(_app(data, cache=False, snapshots=True), data)
    for name, answer in expected.items():
        assert written[name] == answer, f"{name}: with snapshots written differs"
        assert read_back[name] == answer, f"{name}: with snapshots read back differs"


def test_prepared_snapshots_spare_the_workers_the_load(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(_app(data, cache=False, snapshots=False), data)
    _fresh()
    stats_prepare.prepare(_app(data, cache=True))
    assert [k for k, _s, _n in _rows(data)] == [  # every list, anonymous and facilitator
        "lists=1;private=0;hidden=divunal-author",
        "lists=2,1;private=1;hidden=",
    ]
    db = sqlite3.connect(data / "store.db")
    with db:
        db.execute("DELETE FROM figure_cache")  # the figures gone, the snapshots kept
    db.close()
    _fresh()
    with monkeypatch.context() as patched:
        _no_sql(patched)
        app = _app(data, cache=True)
        anonymous, facilitator = app.test_client(), app.test_client()
        login(facilitator, data, "facilitator", username="figures", create=False)
        for client, name in (
            (anonymous, "a /stats?scope=all"),
            (anonymous, f"a /stats?list={PUBLIC}&period=quarter"),
            (facilitator, "f /stats?scope=all"),
            (facilitator, "f /stats/people"),
            (facilitator, "f /stats/responses"),
            (facilitator, "f /stats/network"),
            (facilitator, "f /stats/cohorts"),
        ):
            path, _sep, query = name[2:].partition("?")
            answer = client.get(f"{path}.json" + (f"?{query}" if query else ""))
            assert answer.status_code == 200, name
            assert answer.get_json() == expected[name][1], name


def test_benchmarks_clearing_the_figures_clear_the_snapshots(
    data: Path, conn: sqlite3.Connection
) -> None:
    _write_all(conn)
    assert _rows(data)
    db = sqlite3.connect(data / "store.db")
    try:
        figure_cache.clear(db)  # bench/analytics.py, bench/stats_figures.py: cold = nothing kept
    finally:
        db.close()
    assert _rows(data) == []


def test_drop_without_the_table(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db")
    frame_snapshots.drop(db)  # a store from before migration 17: nothing to forget
    assert frame_snapshots.get(db, "k", "1:0") is None
    db.close()
