"""Pipermail article numbers learnt from the archive's date index, matched to held messages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ingest.pipermail_map import (
    IndexEntry,
    article_message_id,
    decode_page,
    match_period,
    parse_date_index,
)
from store.pipermail_map import PeriodMessage, find_list, pipermail_name
from store.records import ListInfo
from tests.support.archive_server import ArchiveServer
from tests.support.pipermail_site import VOLUMES, build_map, serve_and_sync

TWISTED = Path("pipermail/twisted")


def _page(corpus: Path, *parts: str) -> str:
    return decode_page((corpus / TWISTED).joinpath(*parts).read_bytes())


def test_parse_date_index_of_the_corpus(corpus: Path) -> None:
    entries = parse_date_index(_page(corpus, "twisted-python", "2018-October", "date.html"))
    assert len(entries) == 26
    assert entries[0] == IndexEntry(
        32072, "[Twisted-Python] doPoll timeout problems", "Scott, Barry"
    )
    assert entries[4].author == "trac at twistedmatrix.com"
    assert len({e.number for e in entries}) == 26
    february = parse_date_index(_page(corpus, "twisted-python", "1945-February", "date.html"))
    assert [e.number for e in february] == [2056, 2044]


def test_article_page_gives_its_own_message_id(corpus: Path) -> None:
    page = _page(corpus, "twisted-python", "2018-October", "032072.html")
    assert article_message_id(page) == "3532952.vhGpKmxsgq@barry-scott-desktop"
    # old pages without a Message-ID in the reply link
    assert article_message_id(_page(corpus, "twisted-python", "1945-February", "002044.html")) == ""
    assert article_message_id("<html>no link</html>") == ""


def test_pipermail_names() -> None:
    assert pipermail_name("http://host/pipermail/twisted-python/") == "twisted-python"
    assert pipermail_name("https://h/pipermail/forum_example.org") == "forum_example.org"
    assert pipermail_name("https://h/mailman/private/board/") == "board"
    lists = [
        ListInfo(1, "b", "pipermail", "http://h/pipermail/x/", (), "", "", None),
        ListInfo(2, "a", "hyperkitty", "http://h/pipermail/x/", (), "", "", None),
    ]
    assert find_list(lists, "x") == lists[0]
    assert find_list(lists, "b") is None


def _message(
    key: str, subject: str, name: str, msgid: str = "", position: int = 0
) -> PeriodMessage:
    return PeriodMessage(key, msgid or f"{key}@x", subject, name, f"{key}@example.org", position)


def test_matching_duplicates_missing_and_copies() -> None:
    messages = [
        _message("a", "Weekly report", "bot", position=0),
        _message("b", "Re: Question", "Ann", position=1),
        _message("c", "Weekly report", "bot", position=2),
        _message("d", "Held only", "Bob", position=3),
        _message("e", "[list] Tagged", "Cy", position=4),
    ]
    entries = [
        IndexEntry(12, "Weekly report", "bot"),  # the index lists by date: later number first
        IndexEntry(10, "Weekly  REPORT", "bot"),
        IndexEntry(11, "Re: Question", "Ann"),
        IndexEntry(13, "Not held", "Dan"),
        IndexEntry(14, "Tagged", "Cy Young"),  # author shown differently, tag dropped
    ]
    found, result = match_period(entries, messages)
    assert found == {10: "a", 12: "c", 11: "b", 14: "e"}
    assert (result.matched, result.unmatched, result.unlisted) == (4, [13], 1)

    # with article pages: their Message-IDs decide, whatever the order says
    pages = {10: "c@x", 12: "a@x", 11: "b@x", 13: "nowhere@x", 14: "e@x", 15: "c@x"}
    entries.append(IndexEntry(15, "Weekly report", "bot"))  # a re-archived copy, listed too
    found, result = match_period(entries, messages, pages.__getitem__)
    assert found == {10: "c", 12: "a", 11: "b", 14: "e", 15: "c"}
    assert result.unmatched == [13]
    assert result.by_message_id == 4


def test_map_the_corpus_lists(archive_server: ArchiveServer, corpus: Path, tmp_path: Path) -> None:
    data = serve_and_sync(archive_server, corpus, tmp_path)
    archive_server.requests.clear()
    tp = build_map(data, "tp")
    assert (tp["entries"], tp["matched"], tp["unmatched"], tp["unlisted"]) == (28, 28, 0, 0)
    pages = [p for p in archive_server.requests if p.endswith(".html") and "date" not in p]
    # the list's index (where the archive is now), then only entries sharing a subject and
    # author cost their article page
    assert archive_server.requests["/pipermail/twisted-python/"] == 1
    assert 0 < len(pages) < 28 and tp["requests"] == 1 + 2 + len(pages)
    tw = build_map(data, "tw")
    assert tw["matched"] == tw["entries"] == 33 and tw["unmatched"] == 0

    conn = sqlite3.connect(data / "store.db")
    for old_name, periods in VOLUMES.items():
        for period in periods:
            entries = parse_date_index(_page(corpus, old_name, period, "date.html"))
            mapped = dict(
                conn.execute(
                    "SELECT a.number, m.message_id_norm || char(0) || m.subject || char(0) || "
                    "m.from_name || char(0) || m.in_reply_to FROM pipermail_articles a "
                    "JOIN messages m ON m.key = a.message_key "
                    "JOIN lists l ON l.id = a.list WHERE l.url LIKE ? AND a.period = ?",
                    (f"%/{old_name}/", period),
                ).fetchall()
            )
            assert sorted(mapped) == sorted(e.number for e in entries)
            for entry in entries:
                message_id, subject, author, parents = mapped[entry.number].split("\0")
                assert " ".join(subject.split()) == entry.subject
                assert author.replace("@", " at ") == entry.author
                # the ground truth: the article page's reply link, which names the message
                # itself (Mailman 2.1, 2018) or its parent (older releases, 2007)
                page = _page(corpus, old_name, period, f"{entry.number:06d}.html")
                named = article_message_id(page)
                if period == "2018-October":
                    assert named == message_id
                else:
                    assert named == "" or named in json.loads(parents)
    february = dict(
        conn.execute(
            "SELECT a.number, m.message_id_norm FROM pipermail_articles a JOIN messages m "
            "ON m.key = a.message_key WHERE a.period = '1945-February'"
        ).fetchall()
    )
    # no Message-ID on these pages: archive order decides (002044 is the Feb 7 From_ line)
    assert february == {
        2044: "200210211856.g9LIulJ67077@cgi-works.com",
        2056: "200210221608.g9MG8MJ07637@cgi-works.com",
    }
    before = conn.execute("SELECT * FROM pipermail_articles ORDER BY 1, 2, 3").fetchall()
    conn.close()

    # without article pages: the index, then one request per period, the same map
    archive_server.requests.clear()
    again = build_map(data, "tp", "--no-pages")
    assert again["matched"] == 28 and again["requests"] == 1 + 2
    assert sum(archive_server.requests.values()) == 1 + 2
    conn = sqlite3.connect(data / "store.db")
    assert conn.execute("SELECT * FROM pipermail_articles ORDER BY 1, 2, 3").fetchall() == before
    conn.close()


def test_cli_errors_and_failed_index(
    archive_server: ArchiveServer, corpus: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from listarchive.cli import cli

    data = serve_and_sync(archive_server, corpus, tmp_path)
    build_map(data, "tp")
    runner = CliRunner()
    base = ["--data-dir", str(data), "pipermail-map"]
    assert runner.invoke(cli, [*base, "nope"]).exit_code == 2
    archive_server.faults["/pipermail/twisted-python/2018-October/date.html"] = "500"
    result = runner.invoke(cli, [*base, "tp"])
    assert result.exit_code == 1
    assert "2018-October" in result.output and "previous map kept" in result.output
    conn = sqlite3.connect(data / "store.db")
    kept = conn.execute(
        "SELECT count(*) FROM pipermail_articles WHERE period = '2018-October'"
    ).fetchone()[0]
    conn.close()
    assert kept == 26
    only = runner.invoke(cli, [*base, "tp", "--period", "1945-February"])
    assert only.exit_code == 0 and "1 period, 2 of 2 articles matched" in only.output


@pytest.mark.parametrize("command", ["pipermail-map"])
def test_documented(command: str) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs/cli.md").read_text()
    assert f"listarchive {command}" in text
