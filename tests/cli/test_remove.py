"""`listarchive remove`, `removals`, `restore` (issue 12): a removed message or thread is out
of search on both backends (a real Elasticsearch node), stays out when the same archive is
synced again (and when the same mail comes from another list), comes back on restore; a
purge wipes its bytes and text from the store file for good and cannot be undone."""

from __future__ import annotations

import json
import sqlite3
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listarchive.cli import cli
from store.content import EMPTY
from tests.search.conftest import BACKENDS, ES_URL, delete_es_indices
from tests.support.removal_mail import ALPHA, H1, LATER, Q1, renamed, resent


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
        return
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield {
            "LISTARCHIVE_SEARCH_BACKEND": "elasticsearch",
            "LISTARCHIVE_SEARCH_URL": ES_URL,
            "LISTARCHIVE_SEARCH_INDEX": prefix,
        }
    finally:
        delete_es_indices(prefix)


class Cli:
    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data, self.env = data, env

    def run(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--data-dir", str(self.data), *args], env=self.env)
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.output

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def total(self, query: str) -> int:
        return int(self.json("search", query)["total"])

    def sync(self, name: str) -> dict[str, Any]:
        runs: list[dict[str, Any]] = self.json("sync", name)["runs"]
        return runs[0]


def _keys(data: Path) -> dict[str, str]:
    conn = sqlite3.connect(data / "store.db")
    try:
        return {
            f"{mid}|{subject}": key
            for key, mid, subject in conn.execute(
                "SELECT key, message_id_norm, subject FROM messages"
            )
        }
    finally:
        conn.close()


def _file_bytes(data: Path) -> bytes:
    """The store's bytes on disk: its file and write-ahead log."""
    files = (data / "store.db", data / "store.db-wal")
    return b"".join(p.read_bytes() for p in files if p.exists())


def _key(data: Path, subject: str) -> str:
    return next(k for name, k in _keys(data).items() if name.endswith("|" + subject))


def test_remove_resync_restore_purge(tmp_path: Path, env: dict[str, str]) -> None:
    data = tmp_path / "data"
    alpha, beta = tmp_path / "alpha.mbox", tmp_path / "beta.mbox"
    alpha.write_text("".join(ALPHA))
    run = Cli(data, env)
    run.run("lists", "add", "alpha", "--mbox", str(alpha))
    assert run.sync("alpha")["new_messages"] == 6
    assert run.total("quokkasecret") == 1
    q1 = _key(data, "Quokka marzipan plan")

    removal = run.json("remove", q1, "--reason", "personal data (phone number)")
    assert removal["kind"] == "message" and removal["messages"] == [q1]
    assert removal["actor"].startswith("cli") and removal["index_error"] == ""
    assert run.total("quokkasecret") == 0
    assert run.total("marzipan OR Ximena") == 0
    assert run.total("after:1990") == 5
    listed = run.json("removals")
    assert [r["id"] for r in listed] == [removal["id"]]
    assert listed[0]["reason"] == "personal data (phone number)" and listed[0]["active"]
    assert "personal data" in run.run("removals")

    # the same archive again (the volume changed: it is read again), and the same mail
    # delivered by another list: counted as removed, never stored visible
    # (LATER first: a rewritten file is read whole; an append would be read from its end)
    alpha.write_text("".join((LATER, *ALPHA)))
    again = run.sync("alpha")
    assert again["removed"] == 1 and again["new_messages"] == 1, again
    beta.write_text(resent(Q1) + renamed(resent(Q1), "gw"))
    run.run("lists", "add", "beta", "--mbox", str(beta))
    other = run.sync("beta")
    assert other["removed"] == 2 and other["new_messages"] == 0, other
    assert run.total("quokkasecret") == 0
    run.run("reindex")  # a rebuild skips removed messages too
    assert run.total("quokkasecret") == 0 and run.total("after:1990") == 6

    undone = run.json("restore", str(removal["id"]))
    assert not undone["active"] and undone["undone_by"].startswith("cli")
    assert len(undone["messages"]) == 2  # the gateway's copy was kept hidden under it
    assert run.total("quokkasecret") == 2
    run.run("restore", str(removal["id"]), code=1)  # already undone

    # a purge: the bytes and text leave the store file; it cannot be undone; a re-sync
    # keeps the message out
    conn = sqlite3.connect(data / "store.db")
    blob = conn.execute("SELECT content FROM messages WHERE key = ?", (q1,)).fetchone()[0]
    conn.close()
    secrets = (b"quokkasecret", b"555-0199", b"Quokka marzipan", b"Torvaldsen", blob)
    before = _file_bytes(data)
    # the body's words are in the compressed stream (`store.content`), the rest in plain
    # columns: the search below can find each of them
    text = zlib.decompress(blob)
    assert all(secret in before or secret in text for secret in secrets)
    assert blob in before
    purged = run.json("remove", "--message-id", "<q1@mid.example>", "--purge")
    assert purged["purged"] and purged["messages"] == [q1]
    gateway = run.json("remove", "--message-id", "gw.q1@mid.example", "--purge")
    assert gateway["purged"] and gateway["messages"] != [q1]
    conn = sqlite3.connect(data / "store.db")
    row = conn.execute(
        "SELECT subject, from_addr, body_bytes, content, raw_size FROM messages WHERE key = ?",
        (q1,),
    ).fetchone()
    conn.close()
    assert row == ("", "", 0, EMPTY[0], 0)
    stored = _file_bytes(data)
    for secret in secrets:
        assert secret not in stored, secret
    assert "cannot be undone" in run.run("restore", str(purged["id"]), code=1)
    alpha.write_text("".join((H1, LATER, *ALPHA)))  # rewritten: read whole again
    third = run.sync("alpha")
    assert third["removed"] == 1, third
    assert run.total("quokkasecret") == 0


def test_a_reused_message_id_keeps_the_other_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    alpha = tmp_path / "alpha.mbox"
    alpha.write_text("".join(ALPHA))
    run = Cli(data, {})
    run.run("lists", "add", "alpha", "--mbox", str(alpha))
    run.sync("alpha")
    yeti = _key(data, "Yeti confession")
    run.run("remove", yeti, "--reason", "asked by the author")
    # another message with the same Message-ID, first: the rewritten file is read whole
    alpha.write_text("".join((H1, *ALPHA)))
    summary = run.sync("alpha")
    assert summary["new_messages"] == 1 and summary["removed"] == 1, summary
    assert run.total("yetisecret") == 0
    assert run.total("hide") == 1  # "Nothing to hide here." is another message: it stays
    harmless = _key(data, "Harmless note")
    shown = run.json("search", "subject:harmless")
    assert [h["id"] for h in shown["hits"]] == [harmless]


def test_remove_a_whole_thread_and_usage_errors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    alpha = tmp_path / "alpha.mbox"
    alpha.write_text("".join(ALPHA))
    run = Cli(data, {})
    run.run("lists", "add", "alpha", "--mbox", str(alpha))
    run.sync("alpha")
    reply = _key(data, "Re: Walrus ledger review")
    removal = run.json("remove", reply, "--thread", "--reason", "off-topic")
    assert removal["kind"] == "thread" and len(removal["messages"]) == 2
    assert run.total("walrusbody") == 0
    assert run.total("after:1990") == 4
    run.run("remove", code=2)
    run.run("remove", reply, "--message-id", "x@y", code=2)
    assert "no message" in run.run("remove", "nosuchkey", code=1)
