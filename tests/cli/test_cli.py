"""The `listarchive` command through click's CliRunner: JSON shapes, usage errors, search over
a small real pipermail list served locally, reindex and idempotent sync."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from listarchive.cli import cli
from store.body_parts import split_body
from store.content import body_text
from tests.support.archive_server import ArchiveServer

AUTHOR_PATH = "/pipermail/divunal-author/"
AUTHOR_DIR = ("pipermail", "twisted", "divunal-author")
# a volume of another list: no message in common with divunal-author
REALITY_VOLUME = ("pipermail", "twisted", "reality", "2000-January.txt.gz")

HIT_KEYS = {"id", "message_id", "list", "subject", "from", "date", "thread_id", "snippet"}


def invoke(data_dir: Path, *args: str, env: Mapping[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)


def ok(data_dir: Path, *args: str) -> str:
    result = invoke(data_dir, *args)
    assert result.exit_code == 0, result.output
    assert result.exception is None, result.exception
    return result.stdout


def ok_json(data_dir: Path, *args: str) -> Any:
    return json.loads(ok(data_dir, *args, "--json"))


def serve_author(server: ArchiveServer, corpus: Path) -> str:
    server.mounts[AUTHOR_PATH] = corpus.joinpath(*AUTHOR_DIR)
    # the list's index.html links only some volumes: serve the folder listing instead
    server.listings.add(AUTHOR_PATH)
    return server.url(AUTHOR_PATH)


def setup_lists(server: ArchiveServer, corpus: Path, data_dir: Path, *, sync: bool) -> None:
    ok(data_dir, "lists", "add", "author", "--pipermail", serve_author(server, corpus))
    ok(data_dir, "lists", "add", "reality", "--mbox", str(corpus.joinpath(*REALITY_VOLUME)))
    if sync:
        report = ok_json(data_dir, "sync", "--workers", "1")
        assert all(run["clean"] for run in report["runs"]), report


def search(data_dir: Path, query: str, *args: str) -> dict[str, Any]:
    payload: dict[str, Any] = ok_json(data_dir, "search", query, *args)
    return payload


def store_rows(data_dir: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# -- lists ---------------------------------------------------------------------------------


def test_lists_json_shape_before_and_after_sync(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    assert ok_json(data_dir, "lists") == []
    setup_lists(archive_server, corpus, data_dir, sync=False)
    before = ok_json(data_dir, "lists")
    assert isinstance(before, list)
    assert [row["name"] for row in before] == ["author", "reality"]
    for row in before:
        assert isinstance(row, dict)
        assert {"name", "source", "messages", "last_sync"} <= set(row)
        assert row["messages"] == 0
        assert row["last_sync"] is None
    assert before[0]["source"] == archive_server.url(AUTHOR_PATH)
    assert before[1]["source"] == [str(corpus.joinpath(*REALITY_VOLUME).resolve())]
    assert [row["source_type"] for row in before] == ["pipermail", "mbox"]

    ok(data_dir, "sync", "--workers", "1")
    after = ok_json(data_dir, "lists")
    assert [row["name"] for row in after] == ["author", "reality"]
    for row in after:
        assert isinstance(row["messages"], int) and row["messages"] > 0
        stamp = datetime.fromisoformat(row["last_sync"])
        offset = stamp.utcoffset()
        assert offset is not None and offset.total_seconds() == 0
    counted = store_rows(
        data_dir,
        "SELECT l.name, count(*) FROM memberships m JOIN lists l ON l.id = m.list "
        "GROUP BY l.name ORDER BY l.name",
    )
    assert [(row["name"], row["messages"]) for row in after] == counted


def test_lists_add_usage_errors(tmp_path: Path, data_dir: Path) -> None:
    box = tmp_path / "box.mbox"
    box.write_bytes(b"")
    cases: list[tuple[list[str], str]] = [
        (["lists", "add", "x"], "exactly one source"),
        (
            ["lists", "add", "x", "--pipermail", "http://example.org/p/", "--mbox", str(box)],
            "exactly one source",
        ),
        (["lists", "add", "x", "--pipermail", "not a url"], "is not an http(s) URL"),
        (["lists", "add", "x", "--pipermail", "ftp://example.org/p/"], "is not an http(s) URL"),
        (
            ["lists", "add", "x", "--mbox", str(tmp_path / "missing.mbox")],
            "no such file or directory",
        ),
    ]
    for args, message in cases:
        result = invoke(data_dir, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert ok_json(data_dir, "lists") == []


def test_sync_usage_errors(tmp_path: Path, data_dir: Path) -> None:
    result = invoke(data_dir, "sync")
    assert result.exit_code == 2, result.output
    assert "no lists configured" in result.output

    box = tmp_path / "box.mbox"
    box.write_bytes(b"")
    ok(data_dir, "lists", "add", "known", "--mbox", str(box))
    result = invoke(data_dir, "sync", "known", "nosuchlist")
    assert result.exit_code == 2, result.output
    assert "unknown list(s): nosuchlist" in result.output
    # nothing was synced by the refused command
    assert ok_json(data_dir, "lists")[0]["last_sync"] is None


def test_bad_config_value_names_the_setting(data_dir: Path) -> None:
    result = invoke(data_dir, "lists", env={"LISTARCHIVE_SYNC_WORKERS": "abc"})
    assert result.exit_code != 0
    assert "sync.workers" in result.output
    assert "LISTARCHIVE_SYNC_WORKERS" in result.output
    assert "'abc'" in result.output
    assert "Traceback" not in result.output


# -- search ----------------------------------------------------------------------------------


def test_search_json_shape_exact_total_and_paging(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    setup_lists(archive_server, corpus, data_dir, sync=True)
    full = search(data_dir, "reality", "--limit", "1000")
    assert set(full) == {"total", "hits"}
    assert isinstance(full["total"], int)
    total = full["total"]
    assert 10 < total < 200
    assert len(full["hits"]) == total
    for hit in full["hits"]:
        assert HIT_KEYS <= set(hit)
        assert hit["list"] in ("author", "reality")
        assert hit["list"] in hit["lists"]
        assert isinstance(hit["thread_id"], str) and hit["thread_id"]
        assert hit["from"].endswith(hit["from_addr"] + ">") or hit["from"] == hit["from_addr"]
        if hit["date"] is not None:
            assert datetime.fromisoformat(hit["date"]).utcoffset() is not None
    stored = {key for (key,) in store_rows(data_dir, "SELECT key FROM messages")}
    assert {hit["id"] for hit in full["hits"]} <= stored

    assert search(data_dir, "reality", "--limit", "1")["total"] == total
    seen: list[str] = []
    for offset in range(0, total + 7, 7):
        page = search(data_dir, "reality", "--limit", "7", "--offset", str(offset))
        assert page["total"] == total
        assert len(page["hits"]) == min(7, max(0, total - offset))
        seen += [hit["id"] for hit in page["hits"]]
    assert len(seen) == total
    assert len(set(seen)) == total

    # --list restricts: the two lists share no message, so their totals add up
    on_author = search(data_dir, "reality", "--list", "author", "--limit", "1000")
    on_reality = search(data_dir, "reality", "--list", "reality", "--limit", "1000")
    assert on_author["total"] > 0 and on_reality["total"] > 0
    assert on_author["total"] + on_reality["total"] == total
    assert {hit["list"] for hit in on_author["hits"]} == {"author"}
    assert {hit["list"] for hit in on_reality["hits"]} == {"reality"}
    assert all(hit["lists"] == ["reality"] for hit in on_reality["hits"])


def test_bad_query_exits_1_with_reason(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    setup_lists(archive_server, corpus, data_dir, sync=True)
    result = invoke(data_dir, "search", '"unbalanced phrase', "--json")
    assert result.exit_code == 1, result.output
    assert "unbalanced quote" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def literal_matches(data_dir: Path, term: str) -> set[str]:
    """Keys of stored messages whose indexed text holds `term` as a whole (not inside a
    longer word, address, URL or version)."""
    pattern = re.compile(r"(?<![\w.@/~-])" + re.escape(term) + r"(?![\w@/~-]|\.\w)", re.I)
    found = set()
    for key, subject, from_name, from_addr, stream, body_bytes in store_rows(
        data_dir, "SELECT key, subject, from_name, from_addr, content, body_bytes FROM messages"
    ):
        parts = split_body(
            body_text(stream, body_bytes)
        )  # what the index holds: the own and quoted text
        texts = (subject, from_name, from_addr, parts.own, parts.quoted)
        if any(pattern.search(text) for text in texts):
            found.add(key)
    return found


def test_search_finds_real_addresses_urls_versions_and_phrases(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    setup_lists(archive_server, corpus, data_dir, sync=True)
    # all three occur in the divunal-author volumes (1999-2003)
    for term in (
        "tenth@clockwork.twistedmatrix.com",
        "http://www.twistedmatrix.com/~agatha/maxwell.html",
        "1.2.0",
    ):
        result = search(data_dir, term, "--limit", "100")
        expected = literal_matches(data_dir, term)
        assert expected, term
        assert result["total"] == len(expected), term
        assert {hit["id"] for hit in result["hits"]} == expected, term
    # a version is not matched by its parts elsewhere: 1.1.6 occurs, 1.2.0 in another message
    assert search(data_dir, "1.1.6")["total"] == len(literal_matches(data_dir, "1.1.6")) == 1
    assert search(data_dir, "1.2.0")["hits"][0]["id"] != search(data_dir, "1.1.6")["hits"][0]["id"]

    phrase = search(data_dir, '"regularly scheduled SPAM"')
    assert phrase["total"] == 1
    assert "author efficiency" in phrase["hits"][0]["subject"]
    assert "regularly scheduled SPAM" in phrase["hits"][0]["snippet"]
    # the same words, not as a phrase in that order
    assert search(data_dir, '"SPAM scheduled regularly"')["total"] == 0
    assert search(data_dir, "SPAM scheduled regularly")["total"] >= 1


# -- reindex and idempotence -------------------------------------------------------------


def test_reindex_rebuilds_a_deleted_index(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    setup_lists(archive_server, corpus, data_dir, sync=True)
    before = search(data_dir, "reality", "--limit", "1000")
    assert before["total"] > 0
    for name in ("search-fts.db", "search-fts.db-wal", "search-fts.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    assert not (data_dir / "search-fts.db").exists()

    result = invoke(data_dir, "search", "reality", "--json")
    assert "Traceback" not in result.output
    assert result.exit_code == 3, result.output  # not "0 messages" (docs/cli.md, exit codes)
    assert "run `listarchive reindex`" in result.stderr
    assert not (data_dir / "search-fts.db").exists()  # a search does not make an empty one

    output = ok(data_dir, "reindex")
    count = store_rows(data_dir, "SELECT count(*) FROM messages")[0][0]
    assert f"reindexed {count} messages" in output
    after = search(data_dir, "reality", "--limit", "1000")
    assert after["total"] == before["total"]
    assert sorted(h["id"] for h in after["hits"]) == sorted(h["id"] for h in before["hits"])


def test_second_sync_adds_nothing(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    setup_lists(archive_server, corpus, data_dir, sync=False)
    first = ok_json(data_dir, "sync", "--workers", "1")
    assert sum(run["new_messages"] for run in first["runs"]) > 0
    assert first["indexed"] > 0
    count = store_rows(data_dir, "SELECT count(*) FROM messages")[0][0]
    memberships = store_rows(data_dir, "SELECT count(*) FROM memberships")[0][0]

    second = ok_json(data_dir, "sync", "--workers", "1")
    assert [run["new_messages"] for run in second["runs"]] == [0, 0]
    assert [run["volumes_fetched"] for run in second["runs"]] == [0, 0]
    assert all(run["clean"] for run in second["runs"])
    assert second["indexed"] == 0
    assert store_rows(data_dir, "SELECT count(*) FROM messages")[0][0] == count
    assert store_rows(data_dir, "SELECT count(*) FROM memberships")[0][0] == memberships

    text = ok(data_dir, "sync", "author", "--workers", "1")
    assert "0 new messages" in text
