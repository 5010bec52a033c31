"""Every size, count and depth bound of ingestion is a setting (issue 11): its default is the
old constant, and a small value changes what a sync does.  A volume that failed over a limit
is parsed again once that limit is raised, or with `sync --retry-failed`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.settings import SETTINGS_BY_NAME, load_settings
from ingest import sync, worker
from ingest.origins import OriginPolicy
from ingest.sources.base import Volume
from listarchive import syncing
from listarchive.cli import cli
from search import index_guard
from store.content import body_text
from store.records import MESSAGE_COLUMNS, Quarantined, SaveCounts, StoredItem
from store.store import Store
from store.volume_writer import VolumeWriter
from tests.support import bombs
from tests.support.archive_server import ArchiveServer
from tests.support.hostile_server import HostileServer, Redirect, Serve, running
from tests.support.mailman2_server import HostedList, Mailman2Server

MIB = 1024 * 1024


def _run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def _mbox_list(data_dir: Path, path: Path, data: bytes) -> None:
    path.write_bytes(data)
    assert _run(data_dir, "lists", "add", "limits", "--mbox", str(path))[0] == 0


def _sync(data_dir: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    code, out = _run(data_dir, "sync", "--json", "--workers", "1", *args, env=env)
    assert code in (0, 1), out
    payload: dict[str, Any] = json.loads(out)
    return payload


# -- defaults and wiring ----------------------------------------------------------------------


def test_worker_limits_default_to_the_settings_defaults_and_follow_them() -> None:
    """`Limits()` (what tools and tests use) is what the default settings give, and each
    `sync.*` bound reaches the worker's limits."""
    assert syncing.worker_limits(load_settings(env={})) == worker.Limits()
    names = {
        "max_volume_bytes": "sync.max_volume_bytes",
        "max_message_bytes": "sync.max_message_bytes",
        "max_mime_depth": "sync.max_mime_depth",
        "batch_messages": "sync.batch_messages",
        "batch_bytes": "sync.batch_bytes",
        "dedup_digests": "sync.dedup_digests",
        "quarantine_keep_bytes": "sync.quarantine_keep_bytes",
        "max_deep_parts": "sync.max_deep_parts",
    }
    overrides = {setting: 7 + n for n, setting in enumerate(names.values())}
    limits = syncing.worker_limits(load_settings(env={}, overrides=overrides))
    assert {field: getattr(limits, field) for field in names} == {
        field: overrides[setting] for field, setting in names.items()
    }
    # the old constants are the defaults: behaviour is unchanged
    defaults = {name: SETTINGS_BY_NAME[name].default for name in names.values()}
    assert defaults["sync.batch_messages"] == worker.BATCH_MESSAGES == 500
    assert defaults["sync.batch_bytes"] == worker.BATCH_BYTES == 32 * MIB
    assert defaults["sync.dedup_digests"] == worker.REMEMBERED == 200_000
    assert defaults["sync.quarantine_keep_bytes"] == 64 * 1024
    assert SETTINGS_BY_NAME["sync.index_page_bytes"].default == 32 * MIB
    assert SETTINGS_BY_NAME["sync.parse_window"].default == sync.PARSE_WINDOW == 6


class _Lazy(Executor):
    """Runs a task only when its result is asked for: `done()` is false until then, so the
    sync loop stores a volume only when its parse window is full (or at the end)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: _LazyFuture = _LazyFuture(lambda: fn(*args, **kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


class _LazyFuture(Future[object]):
    def __init__(self, call: Any) -> None:
        super().__init__()
        self.call = call

    def result(self, timeout: float | None = None) -> object:
        if not self.done():
            self.set_result(self.call())
        return super().result(timeout)


def test_parse_window_bounds_the_volumes_waiting_to_be_stored(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "volumes"
    folder.mkdir()
    paths = []
    for n in range(5):
        paths.append(folder / f"v{n}.mbox")
        paths[-1].write_bytes(bombs.mbox(n))
    args = ["lists", "add", "limits", "--mbox", *map(str, paths)]
    assert _run(data_dir, *args)[0] == 0
    events: list[str] = []
    real_writer = Store.volume_writer

    def volume_writer(self: Store, *a: Any, **k: Any) -> Any:
        events.append("store")
        return real_writer(self, *a, **k)

    real_submit = sync._Run._submit  # noqa: SLF001

    def submit(self: Any, job: Any) -> Any:
        events.append("download")
        return real_submit(self, job)

    monkeypatch.setattr(sync, "make_executor", lambda workers: _Lazy())
    monkeypatch.setattr(Store, "volume_writer", volume_writer)
    monkeypatch.setattr(sync._Run, "_submit", submit)  # noqa: SLF001

    def most_waiting(env: dict[str, str]) -> int:
        events.clear()
        with sqlite3.connect(data_dir / "store.db") as conn:
            conn.execute("DELETE FROM volumes")
        assert _sync(data_dir, env)["runs"][0]["volumes_fetched"] == 5
        waiting = most = 0
        for event in events:
            waiting += 1 if event == "download" else -1
            most = max(most, waiting)
        return most

    assert most_waiting({}) == 5  # the default window (6) holds every volume
    assert most_waiting({"LISTARCHIVE_SYNC_PARSE_WINDOW": "1"}) == 2


class _Batches:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sizes: list[int] = []
        real_add = VolumeWriter.add
        batches = self

        def add(
            self: VolumeWriter, items: Sequence[StoredItem], bad: Sequence[Quarantined] = ()
        ) -> SaveCounts:
            batches.sizes.append(len(items) + len(bad))
            return real_add(self, items, bad)

        monkeypatch.setattr(VolumeWriter, "add", add)


def test_batch_messages_bounds_a_batch(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = _Batches(monkeypatch)
    _mbox_list(data_dir, tmp_path / "ten.mbox", bombs.mbox(*range(10)))
    run = _sync(data_dir, {"LISTARCHIVE_SYNC_BATCH_MESSAGES": "3"})["runs"][0]
    assert run["new_messages"] == 10
    assert batches.sizes == [3, 3, 3, 1]


def test_index_page_bytes_bounds_a_catch_up_page(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages: list[int] = []
    real = index_guard.Guard.page

    def page(self: index_guard.Guard, *args: Any) -> Any:
        found = real(self, *args)
        pages.append(len(found[0]))
        return found

    monkeypatch.setattr(index_guard.Guard, "page", page)
    _mbox_list(data_dir, tmp_path / "four.mbox", bombs.mbox(1, 2, 3, 4))
    payload = _sync(data_dir, {"LISTARCHIVE_SYNC_INDEX_PAGE_BYTES": "1"})
    assert payload["indexed"] == 4
    assert pages == [1, 1, 1, 1, 0]  # one message a page (at least one), then the end
    pages.clear()
    code, _out = _run(data_dir, "reindex")
    assert code == 0 and pages == [4, 0]  # the default: one page


def test_dedup_digests_bounds_the_copies_a_worker_remembers(tmp_path: Path) -> None:
    data = bombs.message(1) * 5
    volume = Volume("v", str(tmp_path / "v.mbox"))
    default = worker.parse_volume(
        "mbox", volume, data, syncing.worker_limits(load_settings(env={}))
    )
    assert (len(default.items), default.repeats) == (1, 4)
    none = syncing.worker_limits(load_settings(env={"LISTARCHIVE_SYNC_DEDUP_DIGESTS": "0"}))
    parsed = worker.parse_volume("mbox", volume, data, none)
    assert (len(parsed.items), parsed.repeats) == (5, 0)  # each copy parsed (duplicates)


def test_quarantine_keep_bytes_is_the_prefix_kept(tmp_path: Path, data_dir: Path) -> None:
    _mbox_list(data_dir, tmp_path / "big.mbox", bombs.huge_message(1, 200_000) + bombs.mbox(2))
    env = {"LISTARCHIVE_SYNC_MAX_MESSAGE_BYTES": "100000"}
    run = _sync(data_dir, env | {"LISTARCHIVE_SYNC_QUARANTINE_KEEP_BYTES": "100"})["runs"][0]
    assert (run["new_messages"], run["quarantined"]) == (1, 1)
    with sqlite3.connect(data_dir / "store.db") as conn:
        assert conn.execute("SELECT length(raw) FROM quarantine").fetchall() == [(100,)]


def test_max_deep_parts_bounds_the_text_search_below_the_depth_limit(tmp_path: Path) -> None:
    deep = b"From alice@example.org  Thu May  1 10:00:00 2008\n" + bombs.deep_mime(40)
    volume = Volume("v", str(tmp_path / "v.mbox"))
    env = {"LISTARCHIVE_SYNC_MAX_MIME_DEPTH": "5"}
    default = worker.parse_volume(
        "mbox", volume, deep, syncing.worker_limits(load_settings(env=env))
    )
    few = load_settings(env=env | {"LISTARCHIVE_SYNC_MAX_DEEP_PARTS": "3"})
    bounded = worker.parse_volume("mbox", volume, deep, syncing.worker_limits(few))
    stream, size = MESSAGE_COLUMNS.index("content"), MESSAGE_COLUMNS.index("body_bytes")

    def body(row: tuple[object, ...]) -> str:
        data, length = row[stream], row[size]
        assert isinstance(data, bytes) and isinstance(length, int)
        return body_text(data, length)

    assert "deep secret text" in body(default.items[0].row)
    assert "deep secret text" not in body(bounded.items[0].row)
    assert "no text was found" in body(bounded.items[0].row)


@pytest.fixture()
def hostile() -> Iterator[HostileServer]:
    yield from running()


def test_max_redirects_bounds_a_request(hostile: HostileServer) -> None:
    hostile.routes["/a"] = Redirect(hostile.url("/b"))
    hostile.routes["/b"] = Redirect(hostile.url("/c"))
    hostile.routes["/c"] = Serve(b"From x\n")
    for env, ok in (({}, True), ({"LISTARCHIVE_SYNC_MAX_REDIRECTS": "1"}, False)):
        fetcher = syncing.make_fetcher(load_settings(env=env))
        try:
            policy = OriginPolicy.for_url(hostile.url("/"))
            result = fetcher.get(hostile.url("/a"), policy=policy)
        finally:
            fetcher.close()
        assert result.ok is ok, result.error
        if not ok:
            assert "more than 1 redirects (sync.max_redirects)" in result.error


# -- failed volumes: retried when a limit is raised, or when asked ---------------------------


def _bomb_list(server: ArchiveServer, data_dir: Path) -> None:
    volumes = {"2008-April": bombs.gzip_bomb(3 * MIB), "2008-May": bombs.gz(bombs.mbox(1))}
    url = bombs.serve_list(server, "bomb", volumes)
    assert _run(data_dir, "lists", "add", "bomb", "--pipermail", url)[0] == 0


@pytest.fixture()
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    real = sync.parse_volume

    def counting(kind: str, volume: Volume, *args: Any) -> worker.ParsedVolume:
        names.append(volume.name)
        return real(kind, volume, *args)

    monkeypatch.setattr(sync, "parse_volume", counting)
    return names


def _failures(payload: dict[str, Any]) -> list[str]:
    return [f["error"] for f in payload["runs"][0]["failures"]]


def test_a_failed_volume_is_retried_once_its_limit_is_raised(
    archive_server: ArchiveServer, data_dir: Path, parsed: list[str]
) -> None:
    _bomb_list(archive_server, data_dir)
    low = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(2 * MIB)}
    reason = f"decompresses to more than {2 * MIB} bytes (sync.max_volume_bytes)"
    assert _failures(_sync(data_dir, low)) == [reason]
    with sqlite3.connect(data_dir / "store.db") as conn:
        row = conn.execute("SELECT status, limits FROM volumes WHERE name = '2008-April'")
        assert row.fetchone() == ("failed", json.dumps({"max_volume_bytes": 2 * MIB}))
    parsed.clear()
    # lowered: it would fail again, so it is not parsed again
    lower = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(MIB)}
    assert _failures(_sync(data_dir, lower)) == [f"unchanged since it failed: {reason}"]
    assert parsed == []
    # raised: fetched and parsed again, and stored
    high = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(8 * MIB)}
    payload = _sync(data_dir, high)
    assert _failures(payload) == [] and parsed == ["2008-April"]
    assert payload["runs"][0]["new_messages"] == 1
    with sqlite3.connect(data_dir / "store.db") as conn:
        rows = conn.execute("SELECT status, error, limits FROM volumes WHERE name = '2008-April'")
        assert rows.fetchall() == [("ok", "", "")]


def test_a_failure_without_its_limits_is_retried_once(
    archive_server: ArchiveServer, data_dir: Path, parsed: list[str]
) -> None:
    """A volume that failed before the limits were recorded (an older store) is parsed once
    more: then its limits are known."""
    _bomb_list(archive_server, data_dir)
    low = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(2 * MIB)}
    _sync(data_dir, low)
    with sqlite3.connect(data_dir / "store.db") as conn:
        conn.execute("UPDATE volumes SET limits = '' WHERE status = 'failed'")
    parsed.clear()
    assert _failures(_sync(data_dir, low))[0].startswith("decompresses to")
    assert parsed == ["2008-April"]
    parsed.clear()
    assert _failures(_sync(data_dir, low))[0].startswith("unchanged since it failed")
    assert parsed == []


def test_sync_retry_failed_parses_failed_volumes_again(
    archive_server: ArchiveServer, data_dir: Path, parsed: list[str]
) -> None:
    _bomb_list(archive_server, data_dir)
    low = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(2 * MIB)}
    _sync(data_dir, low)
    parsed.clear()
    archive_server.requests.clear()
    payload = _sync(data_dir, low, "--retry-failed")
    assert _failures(payload)[0].startswith("decompresses to more than")  # fails again
    assert parsed == ["2008-April"]  # the ok volume is not parsed again
    assert archive_server.requests["/pipermail/bomb/2008-April.txt.gz"] == 1  # a full GET
    parsed.clear()
    assert _failures(_sync(data_dir, low))[0].startswith("unchanged since it failed")
    assert parsed == []


def test_max_login_renewals_bounds_the_logins_of_a_run(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private archive whose server drops every session: one login, then at most
    `sync.max_login_renewals` more in the run before its volumes fail."""
    name = "secretariat_example.org"
    folder = corpus / "pipermail/twisted/divunal-author"
    hosted = HostedList(folder, private=True, members={"m@example.org": "pw"})
    server = Mailman2Server(lists={name: hosted})
    server.start()
    monkeypatch.setattr(server, "has_session", lambda list_name, cookies: False)
    monkeypatch.setenv("LISTARCHIVE_ARCHIVE_BPF_USERNAME", "m@example.org")
    monkeypatch.setenv("LISTARCHIVE_ARCHIVE_BPF_PASSWORD", "pw")
    try:
        for renewals in (3, 1):
            settings = load_settings(
                env={"LISTARCHIVE_SYNC_MAX_LOGIN_RENEWALS": str(renewals)},
                overrides={"data_dir": tmp_path / f"data{renewals}"},
            )
            store = Store(settings.store_path)
            info = store.add_list("bpf", "pipermail", url=server.url(f"/mailman/private/{name}/"))
            fetcher = syncing.make_fetcher(settings)
            try:
                source = syncing.make_source(settings, info, fetcher)
                results = [source.download(v, None) for v in source.volumes()[:5]]
            finally:
                fetcher.close()
                store.close()
            assert [r.status for r in results] == ["failed"] * 5
            assert "keeps asking for a login" in results[-1].error
            assert server.logins[name] == 1 + renewals
            server.logins.clear()
    finally:
        server.stop()
