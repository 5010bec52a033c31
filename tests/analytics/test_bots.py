"""Bots: marked persons are left out of every statistic by default (the frame), and persons
whose traffic looks automated are suggested (analytics/bots.py), on hand-built and real mail.

The 2018 slice (tests/analytics/test_real_corpus.py has the hand-checked table): trac posted
the 9 weekly summaries S1 S8 S11 S18 S21 (September) and O5 O7 O18 O23 (October), each a
thread of its own that nobody answered, and replied to nobody.  Without trac: September has
22 - 5 = 17 posts, 12 - 5 = 7 threads started, 11 people, all new; October 27 - 4 = 23 posts,
7 threads started, 12 - 4 = 8 threads active, 8 people of whom 4 new.  Of the 23 threads, 14
remain, the same 11 answered; trac's S1 was a newcomer thread without reply.
"""

from __future__ import annotations

import gc
import sqlite3
from calendar import timegm
from datetime import date
from pathlib import Path

import pytest

from analytics import activity, bot_columns, bots, cohorts, network, responses
from analytics.frame import Frame, _without_bots, load_frame
from analytics.scope import resolve_scope
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store import bots as marks
from store import merges, visibility
from store.store import Store
from tests.analytics.framekit import build
from tests.conftest import CORPUS, PIPERMAIL

OCTOBER = ("2018-10-01", "2018-10-31")
TRAC = "trac@twistedmatrix.com"


def _key_of(conn: sqlite3.Connection, address: str) -> str:
    row = conn.execute(
        "SELECT p.key FROM identities i JOIN persons p ON p.id = i.person WHERE i.value = ?",
        (address,),
    ).fetchone()
    assert row is not None, address
    return str(row[0])


@pytest.fixture()
def marked(twisted_2018: Path, tmp_path: Path) -> sqlite3.Connection:
    """A copy of the 2018 store with trac marked as a bot."""
    path = tmp_path / "store.db"
    source = sqlite3.connect(f"file:{twisted_2018}?mode=ro", uri=True)
    conn = sqlite3.connect(path, isolation_level=None)
    source.backup(conn)
    source.close()
    marks.mark(conn, _key_of(conn, TRAC), "cli:test", "weekly bug summaries")
    return conn


def _frame(conn: sqlite3.Connection, *, bots_in: bool = False, window: bool = False) -> Frame:
    start, end = (date.fromisoformat(d) for d in OCTOBER) if window else (None, None)
    scope = resolve_scope(
        conn, lists=["twisted-python"], start=start, end=end, include_bots=bots_in
    )
    return load_frame(conn, scope)


def test_marked_bot_is_left_out_of_newcomer_and_response_figures(
    marked: sqlite3.Connection,
) -> None:
    rows = activity.series(_frame(marked))
    assert [
        (r.period, r.messages, r.threads_started, r.threads_active, r.participants, r.newcomers)
        for r in rows
    ] == [("2018-09", 17, 7, 7, 11, 11), ("2018-10", 23, 7, 8, 8, 4)]
    assert activity.totals(_frame(marked)).participants == 15
    whole = responses.summary(_frame(marked))
    assert (whole.threads, whole.answered, whole.share) == (14, 11, 0.7857)
    # newcomer threads: Glyph's S2, Robert, Randall, whalebot, meejah's S19, Amber's S20,
    # Barry, Evilham = 8, S19 unanswered
    assert (whole.newcomer_threads, whole.newcomer_unanswered) == (8, 1)
    october = responses.summary(_frame(marked, window=True))
    assert (october.threads, october.answered, october.share) == (7, 5, 0.7143)
    assert [u.name for u in responses.unanswered(_frame(marked))] == ["meejah"] * 3
    assert "trac" not in [p.name for p in activity.top_posters(_frame(marked), limit=None)]
    found = cohorts.retention(_frame(marked), horizon=1)
    # September's 11: Glyph, meejah, Amber and Jeff post again in October
    assert [(r.cohort, r.size, r.retained) for r in found.rows] == [
        ("2018-09", 11, (11, 4)),
        ("2018-10", 4, (4, None)),
    ]
    frame = _frame(marked)
    assert (frame.bot_posts, frame.bots_excluded_posts, frame.scope.as_dict()["bots"]) == (
        9,
        9,
        "excluded",
    )


def test_including_bots_gives_the_figures_with_them(marked: sqlite3.Connection) -> None:
    frame = _frame(marked, bots_in=True)
    assert [(r.period, r.messages, r.newcomers) for r in activity.series(frame)] == [
        ("2018-09", 22, 12),
        ("2018-10", 27, 4),
    ]
    whole = responses.summary(frame)
    assert (whole.threads, whole.answered, whole.newcomer_threads) == (23, 11, 9)
    assert (frame.bot_posts, frame.bots_excluded_posts, frame.scope.as_dict()["bots"]) == (
        9,
        0,
        "included",
    )


def test_unmarking_changes_the_figures_at_once(marked: sqlite3.Connection) -> None:
    assert activity.totals(_frame(marked)).messages == 40  # cached frame without trac
    event = marks.unmark(marked, _key_of(marked, TRAC), "cli:test", "a person after all")
    assert event > 0
    assert activity.totals(_frame(marked)).messages == 49


def test_a_reply_to_a_bot_answers_nobody_counted() -> None:
    frame = build(
        [
            ("2020-01-05T06:00", "t1", "robot", None),
            ("2020-01-05T09:00", "t1", "ann", 1),  # ann answers the robot's notification
            ("2020-01-05T10:00", "t1", "bob", 2),
        ]
    )
    without = _without_bots(frame, frozenset({1}))
    assert [p.person for p in without.posts] == [2, 3]
    assert without.posts[0].parent_person is None and without.posts[1].parent_person == 2
    # the discussion starts with ann's post, which bob answered
    assert (responses.summary(without).threads, responses.summary(without).answered) == (1, 1)
    assert network.network(without).reply_posts == 1
    assert 1 not in without.persons and without.bot_posts == 1


# -- suggestions --------------------------------------------------------------------------------


def test_templates_keep_the_fixed_part_of_a_subject() -> None:
    assert bots.template("[Twisted-Python] Weekly Bug Summary") == (
        "[twisted-python] weekly bug summary"
    )
    assert bots.template("Re: [Twisted-trac] #1234: reactor hangs on exit") == "[twisted-trac] #:"
    assert bots.template("[GitHub] maven-surefire pull request #171: [SUREFIRE-1445] Ex") == (
        "[github] maven-surefire pull request"
    )
    assert bots.template("RE: Re: Fwd: hello there") == "hello there"


def test_automated_names_are_whole_words() -> None:
    assert bots.automated_name("trac@twistedmatrix.com") == "trac"
    assert bots.automated_name("Jenkins <no-reply@ci.example.org>") == "jenkins"
    assert bots.automated_name("noreply@github.com") == "noreply"
    assert bots.automated_name("MAILER-DAEMON@example.org") == "mailer-daemon"
    assert bots.automated_name("dependabot[bot]") == "bot"
    assert bots.automated_name("whalebot", "whalebot@example.org") is None
    assert bots.automated_name("Glyph", "glyph@twistedmatrix.com") is None


def _at(day: int, hour: int) -> int:
    return timegm((2020, 1, day, hour, 5, 0))


def test_score_tells_a_notification_sender_from_a_busy_person() -> None:
    samples: list[bots.Sample] = []
    for week in range(10):  # the robot: a weekly summary, Sundays 06:05, nobody answers
        samples.append(
            bots.Sample(
                1,
                f"r{week}",
                _at(1 + week % 28, 6),
                f"tr{week}",
                None,
                f"[list] Weekly Summary {week}",
            )
        )
    for n in range(10):  # ann asks, bob answers; ann thanks
        samples.append(bots.Sample(2, f"a{n}", _at(2 + n, 9 + n), f"ta{n}", None, f"Q{n} help"))
        samples.append(bots.Sample(3, f"b{n}", _at(2 + n, 10 + n), f"ta{n}", f"a{n}", "Re: Q"))
        samples.append(bots.Sample(2, f"c{n}", _at(3 + n, 8 + n), f"ta{n}", f"b{n}", "Re: Q"))
    senders: dict[int, tuple[str, ...]] = {
        1: ("summary@example.org",),
        2: ("ann@example.org",),
        3: ("bob@example.org",),
    }
    found = {s.person: s for s in bots.score(samples, senders)}
    robot, ann, bob = found[1], found[2], found[3]
    assert robot.signals["fixed_subjects"] == 1.0 and robot.signals["no_replies_given"] == 1.0
    assert robot.signals["unanswered"] == 1.0 and robot.signals["same_hour"] == 1.0
    assert robot.signals["automated_name"] == 0.0
    assert robot.score == 0.85 and robot.score >= bots.THRESHOLD
    assert ann.score < bots.THRESHOLD and bob.score < bots.THRESHOLD
    assert any("fixed subjects" in r for r in robot.reasons)
    # too few posts: no score at all
    assert bots.score(samples, senders, min_posts=21) == []


def _sync(tmp_path: Path, name: str, volumes: list[str]) -> sqlite3.Connection:
    store = Store(tmp_path / "store.db")
    try:
        store.add_list(name, "mbox", paths=volumes)
        assert sync_list(store, name, MboxSource(volumes), workers=1).clean
    finally:
        store.close()
    return sqlite3.connect(tmp_path / "store.db", isolation_level=None)


MONTHS = "January February March April May June July August September October November December"


def test_real_twisted_python_suggests_trac_not_its_busiest_people(tmp_path: Path) -> None:
    folder = PIPERMAIL / "twisted" / "twisted-python"
    volumes = [str(folder / f"2014-{m}.txt.gz") for m in MONTHS.split()]
    conn = _sync(tmp_path, "twisted-python", volumes)
    viewer = visibility.for_reader(conn, include_private=True)
    found = bots.suggestions(conn, viewer)
    # 2014: 1,174 messages; trac's 50 weekly summaries are the only automated traffic
    assert [(s.key, s.posts) for s in found] == [(_key_of(conn, TRAC), 50)]
    assert found[0].score >= 0.9 and len(found[0].reasons) >= 4
    scored = {b.person: b for b in bots.scores(conn, viewer)}
    for address in ("glyph@twistedmatrix.com", "exarkun@twistedmatrix.com"):
        person = conn.execute(
            "SELECT person FROM identities WHERE value = ?", (address,)
        ).fetchone()[0]
        assert scored[person].posts >= 100 and scored[person].score < 0.3, address
    # a "not a bot" decision suppresses the suggestion; undoing it brings it back
    event = marks.unmark(conn, _key_of(conn, TRAC), "cli:test", "checked")
    assert bots.suggestions(conn, viewer) == []
    merges.undo(conn, event, "cli:test")
    assert [s.key for s in bots.suggestions(conn, viewer)] == [_key_of(conn, TRAC)]


def test_real_github_notifications_are_suggested(tmp_path: Path) -> None:
    mbox = CORPUS / "mbox" / "apache-ponymail" / "maven-dev-2017-12-listsao.mbox.gz"
    conn = _sync(tmp_path, "maven-dev", [str(mbox)])
    found = bots.suggestions(conn, visibility.for_reader(conn, include_private=True))
    # git@git.apache.org sends the GitHub comments of every contributor ("[GitHub] maven-...
    # pull request #171: ..."); nobody answers them on the list
    assert [s.key for s in found] == [_key_of(conn, "git@git.apache.org")]
    assert found[0].posts == 46


def test_a_bot_mark_follows_merges_and_their_undo(marked: sqlite3.Connection) -> None:
    trac, glyph = _key_of(marked, TRAC), _key_of(marked, "glyph@twistedmatrix.com")
    trac_id = marked.execute("SELECT id FROM persons WHERE key = ?", (trac,)).fetchone()[0]
    glyph_id = marked.execute("SELECT id FROM persons WHERE key = ?", (glyph,)).fetchone()[0]
    merge = merges.merge(marked, glyph, [trac], "cli:test")  # a wrong merge, for the test
    assert marks.bot_ids(marked) == {glyph_id}
    assert activity.totals(_frame(marked)).messages == 49 - 9 - 11  # Glyph's 11 posts too
    merges.undo(marked, merge, "cli:test")
    assert marks.bot_ids(marked) == {trac_id}
    assert activity.totals(_frame(marked)).messages == 40


def test_bot_decisions_are_recorded_and_undone_in_order(marked: sqlite3.Connection) -> None:
    trac = _key_of(marked, TRAC)
    [first] = [e for e in merges.events(marked) if e.action == "bot"]
    assert (first.actor, first.detail["reason"], first.detail["before"]) == (
        "cli:test",
        "weekly bug summaries",
        None,
    )
    assert marks.mark(marked, trac, "cli:test") == 0  # already a bot: nothing recorded
    second = marks.unmark(marked, trac, "web:ann", "checked")
    with pytest.raises(merges.MergeError, match="undo the later decision first"):
        merges.undo(marked, first.id, "cli:test")
    assert [(d.key, d.state, d.actor, d.reason) for d in marks.decisions(marked)] == [
        (trac, marks.NOT_BOT, "web:ann", "checked")
    ]
    merges.undo(marked, second, "cli:test")  # back to a bot
    assert [(d.state, d.reason) for d in marks.decisions(marked)] == [
        (marks.BOT, "weekly bug summaries")
    ]
    merges.undo(marked, first.id, "cli:test")  # back to no decision at all
    assert marks.bot_ids(marked) == frozenset() and marks.decisions(marked) == []


def test_the_scan_runs_without_the_cyclic_collector(
    marked: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A million samples set off full collections (2-3 s of the 11-12 s at 1M): the scan and
    the scores run with the collector paused, and it is back on afterwards."""
    seen: list[bool] = []
    scan = bot_columns.scan

    def watched(
        conn: sqlite3.Connection, viewer: visibility.Visibility
    ) -> tuple[bot_columns.Posts, dict[int, tuple[str, ...]]]:
        seen.append(gc.isenabled())
        return scan(conn, viewer)

    monkeypatch.setattr(bot_columns, "scan", watched)
    bots.clear_cache()
    assert gc.isenabled()
    found = bots.scores(marked, visibility.for_reader(marked, include_private=True))
    assert seen == [False] and gc.isenabled() and found
