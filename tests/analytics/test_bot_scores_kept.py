"""Bot scores kept in the store (issue 14, task BS: `analytics.bots.scores`,
`store.bot_scores`): written once per state of the archive and read back by another process;
keyed on everything the scores depend on (the change sequence, the persons version, the
reader's access, the scoring code) and on nothing else (a bot mark or a "not a bot" decision
keeps them); a damaged entry is ignored and computed again.

A planted entry (scores no computation gives) tells a read from a computation: it must come
back while nothing it depends on changed, and never once one part of the key did.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics import bot_columns, bots
from store import bot_scores, merges, removals, visibility
from store import bots as marks
from tests.support.twisted_year import sync_twisted_2018

TRAC = "trac@twistedmatrix.com"
PLANTED = [bots.BotScore(999_999, 12, 0.99, dict.fromkeys(bots.WEIGHTS, 0.5), ("x",), "t #")]


@pytest.fixture(scope="module")
def twisted_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """twisted-python's twelve 2018 volumes (379 messages, trac's weekly summaries)."""
    path = tmp_path_factory.mktemp("bot-scores") / "store.db"
    sync_twisted_2018(path)
    return path


@pytest.fixture()
def conn(twisted_year: Path, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "store.db"
    source = sqlite3.connect(f"file:{twisted_year}?mode=ro", uri=True)
    found = sqlite3.connect(path, isolation_level=None)
    source.backup(found)
    source.close()
    saved = dict(bots.KEEP), list(bots._ALLOWED)
    bots.configure(64 * 2**20)
    bots.clear_cache()
    yield found
    bots.KEEP.update(saved[0])
    bots._ALLOWED[:] = saved[1]
    bots.clear_cache()
    found.close()


def _path(conn: sqlite3.Connection) -> Path:
    return Path(next(str(r[2]) for r in conn.execute("PRAGMA database_list") if r[1] == "main"))


def _plant(conn: sqlite3.Connection, viewer: visibility.Visibility) -> None:
    current = bot_scores.state(conn)
    kept = bot_scores.put(_path(conn), bots.kept_key(viewer), current, bots.encode(PLANTED), 2**20)
    assert kept
    bots.clear_cache()  # another process: nothing in memory


def _kept_rows(conn: sqlite3.Connection) -> int:
    query = "SELECT count(*) FROM frame_snapshots WHERE key LIKE 'bot-scores;%'"
    return int(conn.execute(query).fetchone()[0])


def _person(conn: sqlite3.Connection, address: str) -> str:
    row = conn.execute(
        "SELECT p.key FROM identities i JOIN persons p ON p.id = i.person WHERE i.value = ?",
        (address,),
    ).fetchone()
    return str(row[0])


def test_scores_are_kept_and_read_back_equal_without_a_scan(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    computed = bots.scores(conn, seen)
    assert len(computed) > 5 and _kept_rows(conn) == 1
    assert bots.decode(bots.encode(computed)) == computed
    bots.clear_cache()

    def no_scan(*_args: object) -> None:
        raise AssertionError("scanned again")

    monkeypatch.setattr(bot_columns, "scan", no_scan)
    assert bots.scores(conn, seen) == computed
    assert bots.suggestions(conn, seen)[0].name  # trac, from the kept scores


def test_a_planted_entry_is_read_while_its_key_holds(conn: sqlite3.Connection) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    _plant(conn, seen)
    assert bots.scores(conn, seen) == PLANTED
    bots.configure(0)  # keeping off: computed, the entry neither read nor written
    bots.clear_cache()
    assert bots.scores(conn, seen) != PLANTED


def test_marks_and_decisions_keep_the_scores(conn: sqlite3.Connection) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    real = bots.scores(conn, seen)
    trac = _person(conn, TRAC)
    assert trac in {s.key for s in bots.suggestions(conn, seen)}
    _plant(conn, seen)
    marks.mark(conn, trac, "cli:test", "weekly bug summaries")
    marks.decide(conn, _person(conn, "glyph@twistedmatrix.com"), marks.NOT_BOT, "cli:test")
    assert bots.scores(conn, seen) == PLANTED  # the marks are not part of what they depend on
    bots.clear_cache()
    conn.execute("DELETE FROM frame_snapshots")
    assert bots.scores(conn, seen) == real
    assert trac not in {s.key for s in bots.suggestions(conn, seen)}  # decided: left out


def test_a_new_change_sequence_computes_them_again(conn: sqlite3.Connection) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    _plant(conn, seen)
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'")  # a sync
    assert bots.scores(conn, seen) != PLANTED


def test_a_merge_computes_them_again(conn: sqlite3.Connection) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    _plant(conn, seen)
    merges.merge(conn, _person(conn, "glyph@twistedmatrix.com"), [_person(conn, TRAC)], "t")
    assert bots.scores(conn, seen) != PLANTED


def test_a_removal_forgets_them_and_computes_them_again(conn: sqlite3.Connection) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    _plant(conn, seen)
    key = str(conn.execute("SELECT key FROM messages ORDER BY id LIMIT 1").fetchone()[0])
    removals.remove(conn, "message", key, [key], reason="test", actor="test")
    assert _kept_rows(conn) == 0  # gone with the removal, not at the next put
    assert bots.scores(conn, visibility.for_reader(conn, include_private=True)) != PLANTED


_PRIVATE = visibility.Visibility(include_private=True)
_PUBLIC = visibility.Visibility(include_private=False)


@pytest.mark.parametrize(
    ("planted", "asked"),
    [
        (_PRIVATE, _PUBLIC),
        (_PRIVATE, visibility.Visibility(include_private=True, removals=True)),
        (_PUBLIC, visibility.Visibility(False, hidden_lists=frozenset({"twisted-python"}))),
    ],
)
def test_another_access_computes_them_again(
    conn: sqlite3.Connection, planted: visibility.Visibility, asked: visibility.Visibility
) -> None:
    _plant(conn, planted)
    assert bots.scores(conn, planted) == PLANTED
    bots.clear_cache()
    assert bots.scores(conn, asked) != PLANTED


def test_other_code_computes_them_again(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    _plant(conn, seen)
    monkeypatch.setattr(bots, "_code_digest", lambda: "another version")
    assert bots.scores(conn, seen) != PLANTED


@pytest.mark.parametrize(
    "damage",
    [b"not json", b"\xff\xfe", b"{}", b"[[1, 2, 3]]", b'[[1, 2, 0.5, {"a": 1.0}, [], ""]]'],
)
def test_a_damaged_entry_is_ignored_and_computed_again(
    conn: sqlite3.Connection, damage: bytes
) -> None:
    seen = visibility.for_reader(conn, include_private=True)
    real = bots.scores(conn, seen)
    bots.clear_cache()
    conn.execute("UPDATE frame_snapshots SET value = ? WHERE key LIKE 'bot-scores;%'", (damage,))
    assert bots.scores(conn, seen) == real
