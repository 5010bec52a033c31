"""`/healthz` is always JSON and says what is unhealthy; a damaged store is a 503 with what to
do on every page (HTML and JSON); a data directory the web cannot write stops it at start-up.
Counts in `/healthz` are of public messages only."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from config.settings import load_settings
from store import schema
from store.store import Store
from tests.conftest import REPO
from tests.store.test_store_faults import damage_middle_leaves, overwrite_page, set_schema_version
from tests.support.stores import index_store
from tests.support.webauth import csrf_token_in
from webui import create_app
from webui.health import integrity


def copy_data(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("store.db", "search-fts.db"):
        shutil.copy2(source / name, target / name)
    return target


@pytest.fixture()
def data(webui_data: Path, tmp_path: Path) -> Path:
    """A copy of the web fixture's data directory, free to damage."""
    return copy_data(webui_data, tmp_path / "data")


def client_for(data: Path, **overrides: Any) -> FlaskClient:
    settings = load_settings(env={}, overrides={"data_dir": data, **overrides})
    return create_app(settings).test_client()


def public_and_total(data: Path) -> tuple[int, int]:
    conn = sqlite3.connect(data / "store.db")
    try:
        (public,) = conn.execute(
            "SELECT count(DISTINCT ms.message) FROM memberships ms JOIN lists l "
            "ON l.id = ms.list WHERE NOT l.private"
        ).fetchone()
        (total,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    finally:
        conn.close()
    return int(public), int(total)


def health(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    answer = client.get("/healthz")
    assert answer.is_json, answer.data[:200]
    body: dict[str, Any] = answer.get_json()
    return answer.status_code, body


def test_healthz_is_ok_and_counts_public_messages_only(data: Path) -> None:
    public, total = public_and_total(data)
    assert 0 < public < total  # the fixture has a private list
    status, body = health(client_for(data))
    assert status == 200
    assert body["status"] == "ok"
    assert body["messages"] == public and body["indexed"] == public
    assert body["checks"]["store"] == {"status": "ok"}
    assert body["checks"]["index"] == {"status": "ok", "backend": "sqlite"}


def damage(data: Path, how: str) -> None:
    path = data / "store.db"
    if how == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    elif how == "garbage-page":
        overwrite_page(path, "lists")
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "garbage-page"])
def test_a_damaged_store_is_a_503_that_says_what_to_do(data: Path, how: str) -> None:
    damage(data, how)
    client = client_for(data)  # starts: the store can be restored while it runs
    page = client.get("/")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    assert "damaged" in text and "backup" in text and "Traceback" not in text
    twin = client.get("/index.json")
    assert twin.status_code == 503 and twin.is_json
    message = twin.get_json()["error"]["message"]
    assert "store.db" in message and "damaged" in message and "listarchive check" in message
    status, body = health(client)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["checks"]["store"]["status"] == "error"
    assert "damaged" in body["checks"]["store"]["error"]
    assert body["messages"] is None
    # visitors learn the file's name, not where the operator keeps the data
    for told in (text, message, body["checks"]["store"]["error"]):
        assert str(data.resolve()) not in told and str(data) not in told


def test_a_zero_byte_store_is_not_an_empty_archive(data: Path) -> None:
    (data / "store.db").write_bytes(b"")
    client = client_for(data)
    assert client.get("/").status_code == 503
    status, body = health(client)
    assert status == 503 and body["checks"]["store"]["status"] == "error"
    assert "empty" in body["checks"]["store"]["error"]
    assert (data / "store.db").stat().st_size == 0


# -- damage a probe does not read (issue 11, D7) -------------------------------------------


def public_keys_on_damaged_pages(data: Path) -> list[str]:
    """Damage two leaf pages of `messages` in the middle of store.db; the keys of the public
    messages whose rows lay on them (their pages can no longer be read)."""
    conn = sqlite3.connect(data / "store.db")
    try:
        rows = conn.execute(
            "SELECT m.key, EXISTS (SELECT 1 FROM memberships ms JOIN lists l ON l.id = ms.list "
            "WHERE ms.message = m.id AND NOT l.private) FROM messages m ORDER BY m.id"
        ).fetchall()
    finally:
        conn.close()
    lost = damage_middle_leaves(data / "store.db", "messages")
    keys = [rows[n][0] for n in lost if rows[n][1]]
    assert keys, "no public message on the damaged pages"
    return keys


def test_damaged_middle_pages_make_healthz_503(data: Path) -> None:
    keys = public_keys_on_damaged_pages(data)
    client = client_for(data)
    assert client.get(f"/messages/{keys[0]}").status_code == 503  # what readers meet
    status, body = health(client_for(data))  # a fresh process: its first probe checks
    assert status == 503 and body["status"] == "unhealthy"
    error = body["checks"]["store"]["error"]
    assert "damaged" in error and "quick_check" in error and "backup" in error
    assert str(data) not in error


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_damage_met_by_a_page_turns_healthz_503_until_a_check_finds_it_sound(
    data: Path,
) -> None:
    sound = data.parent / "sound.db"
    shutil.copy2(data / "store.db", sound)
    settings = load_settings(env={}, overrides={"data_dir": data})
    assert settings["web.health_check_interval"] == 300
    app = create_app(settings)
    clock = integrity(app).clock = Clock()
    client = app.test_client()
    assert health(client)[0] == 200  # checked now: sound
    keys = public_keys_on_damaged_pages(data)
    assert health(client)[0] == 200  # the next quick_check is not due yet: the known limit
    assert client.get(f"/messages/{keys[0]}").status_code == 503
    status, body = health(client)  # at once, without waiting for a check
    assert status == 503 and "damaged" in body["checks"]["store"]["error"]
    shutil.copy2(sound, data / "store.db")  # restored from a backup
    clock.now += 299
    assert health(client)[0] == 503  # the mark stays until a check after it
    clock.now += 1
    assert health(client)[0] == 200  # the check found the restored store sound
    public_keys_on_damaged_pages(data)
    clock.now += 300
    status, body = health(client)  # the periodic check finds damage nobody read
    assert status == 503 and "quick_check" in body["checks"]["store"]["error"]


# -- a store newer than this program (issue 11, D8) ------------------------------------------


def test_a_store_newer_than_the_program_is_refused_on_every_route(data: Path) -> None:
    client = client_for(data)
    login = client.get("/login")  # before the downgrade: a session and its CSRF token
    token = csrf_token_in(login.get_data(as_text=True))
    newer, program = len(schema.MIGRATIONS) + 1, len(schema.MIGRATIONS)
    set_schema_version(data / "store.db", newer)
    words = ("store.db", f"version {newer}", f"({program})", "newer")
    posted = client.post("/login", data={"username": "x", "password": "y", "csrf_token": token})
    assert posted.status_code == 503, posted.data[:300]
    for path in ("/", "/lists/reality", "/search?q=reality", "/login", "/api/openapi.json"):
        page = client.get(path)
        assert page.status_code == 503, (path, page.status_code)
        text = page.get_data(as_text=True)
        assert all(word in text for word in words) and "Traceback" not in text, (path, text)
    twin = client.get("/index.json")
    assert twin.status_code == 503
    assert all(word in twin.get_json()["error"]["message"] for word in words)
    status, body = health(client)
    assert status == 503 and body["status"] == "unhealthy" and body["messages"] is None
    assert all(word in body["checks"]["store"]["error"] for word in words)
    assert str(data) not in body["checks"]["store"]["error"]
    style = client.get("/static/style.css")
    style.close()
    assert style.status_code == 200  # the error page keeps its style
    set_schema_version(data / "store.db", program)  # a backup of this version restored
    assert client.get("/").status_code == 200 and health(client)[0] == 200


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_healthz_names_an_unreachable_index(data: Path) -> None:
    client = client_for(
        data,
        **{
            "search.backend": "elasticsearch",
            "search.url": f"http://127.0.0.1:{closed_port()}",
        },
    )
    status, body = health(client)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["checks"]["store"] == {"status": "ok"}
    index = body["checks"]["index"]
    assert index["status"] == "error" and index["backend"] == "elasticsearch"
    assert "127.0.0.1" in index["error"]


def set_index_meta(data: Path, name: str, value: str) -> None:
    conn = sqlite3.connect(data / "search-fts.db")
    try:
        conn.execute("UPDATE meta SET value = ? WHERE name = ?", (value, name))
        conn.commit()
    finally:
        conn.close()


def test_healthz_names_an_index_of_another_store(data: Path) -> None:
    set_index_meta(data, "store_id", "0123456789abcdef")
    status, body = health(client_for(data))
    assert status == 503
    assert "another store" in body["checks"]["index"]["error"]


def test_healthz_says_how_far_the_index_is_behind(data: Path) -> None:
    public, _total = public_and_total(data)
    set_index_meta(data, "checkpoint", "0")
    status, body = health(client_for(data))
    assert status == 200 and body["status"] == "ok"  # a sync is catching it up
    assert body["checks"]["index"] == {"status": "behind", "behind": public, "backend": "sqlite"}
    assert body["indexed"] == 0


# -- a data directory the web cannot write ------------------------------------------------


def unprivileged(args: list[str]) -> list[str]:
    """`args` run so that file permissions apply: as root (tests run as root here), without
    the capabilities that override them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and no setpriv to drop CAP_DAC_OVERRIDE")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *args]


BUILD_APP = """
import sys
from config.settings import ConfigError, load_settings
from webui import create_app
try:
    create_app(load_settings(env={}, overrides={"data_dir": sys.argv[1]}))
except ConfigError as exc:
    print("REFUSED", exc)
    sys.exit(7)
print("STARTED")
"""


def run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env = {k: v for k, v in env.items() if not k.startswith("LISTARCHIVE_")}
    return subprocess.run(
        unprivileged(args), capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.parametrize("what", ["directory", "store"])
def test_the_web_refuses_to_start_on_a_data_dir_it_cannot_write(data: Path, what: str) -> None:
    made_read_only = data if what == "directory" else data / "store.db"
    made_read_only.chmod(0o500 if what == "directory" else 0o400)
    try:
        # the check is real: this process cannot write there
        probe = run([sys.executable, "-c", f"open({str(data / 'probe')!r}, 'w')"])
        if what == "directory":
            assert probe.returncode != 0 and "Permission denied" in probe.stderr
        built = run([sys.executable, "-c", BUILD_APP, str(data)])
        assert built.returncode == 7, built.stdout + built.stderr
        assert "REFUSED" in built.stdout and str(made_read_only) in built.stdout
        assert "sessions and login attempts" in built.stdout
        served = run(
            [
                sys.executable,
                "-m",
                "listarchive.cli",
                "--data-dir",
                str(data),
                "serve",
                "--port",
                str(closed_port()),
            ],
            timeout=30,
        )
        assert served.returncode == 1, served.stdout + served.stderr
        assert str(made_read_only) in served.stderr and "Traceback" not in served.stderr
    finally:
        made_read_only.chmod(0o700 if what == "directory" else 0o600)


def test_index_failure_met_by_a_search_turns_healthz_503_for_an_interval(data: Path) -> None:
    """A damaged FTS page under every search, with the index's metadata sound: the probe
    alone cannot see it, so the failure a search met makes the index check an error until
    `web.health_check_interval` has passed without another one (issue 11 review, D7)."""
    sound = data.parent / "sound-fts.db"
    shutil.copy2(data / "search-fts.db", sound)
    overwrite_page(data / "search-fts.db", "fts_data")
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    clock = integrity(app).clock = Clock()
    client = app.test_client()
    assert health(client)[0] == 200  # the metadata reads fine: the known limit
    search = client.get("/search.json?q=budget")
    assert search.status_code == 503
    status, body = health(client)
    assert status == 503 and body["status"] == "unhealthy"
    error = body["checks"]["index"]["error"]
    assert "search index search-fts.db" in error and str(data) not in error
    assert body["checks"]["store"] == {"status": "ok"}
    clock.now += 299
    assert health(client)[0] == 503
    shutil.copy2(sound, data / "search-fts.db")  # rebuilt (reindex)
    clock.now += 1
    assert health(client)[0] == 200


@pytest.mark.parametrize("how", ["zero-bytes", "missing"])
def test_a_lost_index_is_a_503_not_an_empty_archive(data: Path, how: str) -> None:
    """A search index file lost or emptied under a store with messages: searches say so with
    what to do (503), as /healthz does, instead of "0 messages" (issue 11 review, D7)."""
    index = data / "search-fts.db"
    if how == "missing":
        index.unlink()
    else:
        index.write_bytes(b"")
    client = client_for(data)
    for url in ("/search.json?q=budget", "/api/search?q=budget", "/search.csv?q=budget"):
        answer = client.get(url)
        assert answer.status_code == 503, url
        assert "reindex" in answer.get_data(as_text=True), url
    assert client.get("/search?q=budget").status_code == 503
    status, body = health(client)
    assert status == 503 and "reindex" in body["checks"]["index"]["error"]
    store = Store(data / "store.db")
    try:
        index_store(store, data)
    finally:
        store.close()
    assert client.get("/search.json?q=budget").status_code == 200
