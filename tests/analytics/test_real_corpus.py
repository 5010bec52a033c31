"""Metrics on real mail: twisted-python's 2018-September and 2018-October volumes (49 distinct
messages, tests/analytics/conftest.py).

How the expected numbers were checked: the headers of both volumes were read by hand
(`zcat 2018-September.txt.gz | grep -E '^(From |Date:|Subject:|In-Reply-To:|References:)'`),
each Date converted to UTC, each In-Reply-To matched to the Message-ID it names, and the table
below written from them.  S = September volume, O = October volume, in archive order.

    S1 S8 S11 S18 S21 trac, "Weekly Bug Summary", Sundays 06:05 UTC: 5 one-message threads
    S2  09-05 07:25:19 Glyph     T9217 (replies to an August message we do not hold)
    S3  09-05 07:27:22 Glyph     Keeping logger... (replies to an August message)
    S4  09-05 12:44:09 Kyle      T9217 -> S2                      first reply after 19,130 s
    S5  09-05 13:39:58 Robert    TLS failure modes (August parent)
    S6  09-05 13:42:55 JP        TLS -> S5                        177 s
    S7  09-07 12:28:30 Kyle      T9217: In-Reply-To names a missing Glyph message; its
                                 References end ...S4, <missing>: it answers someone the
                                 archive does not show (threaded under S4, but not a reply
                                 to Kyle himself)
    S9  09-11 22:33:24 Jeff      logger -> S3                     572,762 s (6 d 15:06:02)
    S10 09-15 14:38:35 Jeff      logger -> S9 (self)
    S12 09-16 14:02:02 Randall   Switch Protocols (new)
    S13 09-17 06:34:51 Tristan   -> S12                           59,569 s
    S14 09-18 05:41:48 Glyph     -> S13  (Mon 22:41 -0700)
    S15 09-19 12:50:41 whalebot  Mixing async/await (new)
    S16 09-20 01:13:51 Kyle      -> S15                           44,590 s
    S17 09-20 18:00:54 Glyph     -> S15
    S19 09-27 02:45:15 meejah    txtorcon 18.1.0 (new, no reply)
    S20 09-28 10:43:40 Amber     18.9.0rc1 (new)
    S22 09-30 23:26:53 John      -> S20                           218,593 s
    S23 10-01 01:08:33 Glyph     -> S22: in the September volume, but October in UTC
    O1  10-02 10:42:11 Barry     doPoll (new)
    O2  10-03 05:54:32 Glyph     rc1 -> S20
    O3  10-05 00:19:11 meejah    txtorcon 18.2.0;  O4 10-05 23:14:58 meejah txtorcon 18.3.0
    O5 O7 O18 O23  trac weekly summaries (10-07, 10-14, 10-21, 10-28)
    O6  10-12 19:18:01 Evilham   State of Names / DNS (new)
    O8  10-15 00:00:23 Glyph     -> O6                            189,742 s
    O9  10-15 20:22:47 Evilham   -> O8
    O10 10-16 18:07:13 Wim       -> O6
    O11 10-17 02:28:11 Wim       doPoll -> O1                     1,266,360 s (14 d 15:46)
    O12 10-17 05:25:05 Glyph     DNS -> O10;  O13 10-17 05:59:07 Glyph doPoll -> O11
    O14 10-17 14:56:46 Barry     -> O13;      O15 10-19 05:51:13 Wim   -> O14
    O16 10-19 11:56:02 Amber     18.9.0 announcement (new); O17 13:33:03 Amber -> O16 (self)
    O19 10-22 08:33:12 Glyph     -> O16                           247,030 s
    O20 10-23 09:25:47 Evilham   -> O19
    O21 10-24 05:21:20 Wim       Etiquette (new); O22 06:36:20 Glyph -> O21   4,500 s
    O24 10-30 21:31:27 Jeff      twisted.web (new); O25 22:41:27 Donal -> O24  4,200 s
    O26 10-31 21:15:33 Jeff      -> O25

23 threads (12 start in September, 11 in October), 16 people.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from analytics import activity, cohorts, network, responses
from analytics.frame import Frame, load_frame
from analytics.person import person_activity
from analytics.scope import resolve_scope

OCTOBER = (date(2018, 10, 1), date(2018, 10, 31))


def _frame(conn: sqlite3.Connection, start: date | None = None, end: date | None = None) -> Frame:
    return load_frame(conn, resolve_scope(conn, lists=["twisted-python"], start=start, end=end))


def _pid(frame: Frame, name: str) -> int:
    return next(p.id for p in frame.persons.values() if p.name == name)


def test_monthly_activity(twisted_db: sqlite3.Connection) -> None:
    rows = activity.series(_frame(twisted_db))
    # September (UTC): S1-S22 = 22 posts, 12 threads started and active, 12 people, all new.
    # October: S23 + O1-O26 = 27 posts; 11 threads started, 12 active (rc1 continues);
    # 9 people of whom Barry, Evilham, Wim and Donal are new.
    assert [
        (r.period, r.messages, r.threads_started, r.threads_active, r.participants, r.newcomers)
        for r in rows
    ] == [("2018-09", 22, 12, 12, 12, 12), ("2018-10", 27, 11, 12, 9, 4)]
    assert activity.totals(_frame(twisted_db)).participants == 16


def test_top_posters(twisted_db: sqlite3.Connection) -> None:
    whole = activity.top_posters(_frame(twisted_db), limit=4)
    # Glyph 11 (S2 S3 S14 S17 S23 O2 O8 O12 O13 O19 O22), trac 9 weekly summaries, Jeff 4
    # (S9 S10 O24 O26) and Wim 4 (O10 O11 O15 O21) tie and go by name
    assert [(p.name, p.messages) for p in whole] == [
        ("Glyph", 11),
        ("trac", 9),
        ("Jeff Grimmett", 4),
        ("Wim Lewis", 4),
    ]
    october = activity.top_posters(_frame(twisted_db, *OCTOBER), limit=3)
    # Glyph 7 in October (S23 counts: 10-01 01:08 UTC), none of them starting a thread, in 5
    # threads (rc1, doPoll, DNS, 18.9.0, Etiquette); Wim started Etiquette and is new
    assert [(p.name, p.messages, p.threads_started, p.threads, p.newcomer) for p in october] == [
        ("Glyph", 7, 0, 5, False),
        ("trac", 4, 4, 4, False),
        ("Wim Lewis", 4, 1, 3, True),
    ]


def test_october_totals_and_top_threads(twisted_db: sqlite3.Connection) -> None:
    frame = _frame(twisted_db, *OCTOBER)
    totals = activity.totals(frame)
    assert (totals.messages, totals.threads_started, totals.threads_active) == (27, 11, 12)
    assert (totals.participants, totals.newcomers) == (9, 4)
    by_replies = activity.top_threads(frame, "replies", limit=6)
    # doPoll and DNS: 5 posts, 4 replies, 3 people (doPoll started first); 18.9.0: 3 replies;
    # twisted.web and rc1 both 2 replies (rc1's start S20 is in September) - twisted.web has
    # 2 people, rc1 only Glyph; Etiquette 1 reply
    assert [(t.subject[:12], t.messages, t.replies, t.participants) for t in by_replies] == [
        ("doPoll timeo", 5, 4, 3),
        ("State of Nam", 5, 4, 3),
        ("Twisted 18.9", 4, 3, 3),
        ("twisted.web ", 3, 2, 2),
        ("Twisted 18.9", 2, 2, 1),
        ("Etiquette of", 2, 1, 2),
    ]
    assert by_replies[4].started == "2018-09-28T10:43:40+00:00"


def test_october_weekdays_hours_days(twisted_db: sqlite3.Connection) -> None:
    frame = _frame(twisted_db, *OCTOBER)
    # 2018-10-01 was a Monday; the UTC days of the 27 posts give these counts
    assert [d.messages for d in activity.weekdays(frame)] == [4, 5, 8, 0, 6, 0, 4]
    hours = [h.messages for h in activity.hours(frame)]
    # 05 UTC: O2 O12 O13 O15 O21; 06 UTC: O5 O7 O18 (trac) O22 O23; 00: O3 O8; 21: O24 O26
    assert (hours[5], hours[6], hours[0], hours[21], hours[3], sum(hours)) == (5, 5, 2, 2, 0, 27)
    days = activity.busiest_days(frame, limit=3)
    # 10-17: O11 O12 O13 O14 (doPoll and DNS; Wim, Glyph, Barry); 10-19: O15 O16 O17
    assert [(d.day, d.messages, d.threads, d.participants) for d in days] == [
        ("2018-10-17", 4, 2, 3),
        ("2018-10-19", 3, 2, 2),
        ("2018-10-05", 2, 2, 1),
    ]


def test_responses(twisted_db: sqlite3.Connection) -> None:
    whole = responses.summary(_frame(twisted_db))
    # answered: T9217, logger, TLS, Switch, Mixing, rc1, doPoll, DNS, 18.9.0, Etiquette,
    # twisted.web = 11 of 23; the 9 weekly summaries and txtorcon 18.1/18.2/18.3 are not.
    # Delays sorted: 177 4200 4500 19130 44590 59569 189742 218593 247030 572762 1266360:
    # nearest-rank median = 6th, p90 = ceil(9.9) = 10th
    assert (whole.threads, whole.answered, whole.share) == (23, 11, 0.4783)
    assert (whole.median_seconds, whole.p90_seconds) == (59569, 572762)
    assert (whole.median_hours, whole.p90_hours) == (16.55, 159.1)
    # threads opened by the starter's first post: trac's S1, Glyph's S2, Robert, Randall,
    # whalebot, meejah's S19, Amber's S20, Barry, Evilham = 9; S1 and S19 got no reply
    assert (whole.newcomer_threads, whole.newcomer_unanswered) == (9, 2)
    october = responses.summary(_frame(twisted_db, *OCTOBER))
    # 11 threads start in October; answered doPoll, DNS, 18.9.0, Etiquette, twisted.web:
    # 4200 4500 189742 247030 1266360 -> median the 3rd, p90 the 5th
    assert (october.threads, october.answered, october.share) == (11, 5, 0.4545)
    assert (october.median_seconds, october.p90_seconds) == (189742, 1266360)


def test_unanswered(twisted_db: sqlite3.Connection) -> None:
    october = responses.unanswered(_frame(twisted_db, *OCTOBER))
    assert [(u.name, u.date[:10], u.newcomer) for u in october] == [
        ("trac", "2018-10-28", False),
        ("trac", "2018-10-21", False),
        ("trac", "2018-10-14", False),
        ("trac", "2018-10-07", False),
        ("meejah", "2018-10-05", False),  # txtorcon 18.3.0, 23:14 UTC
        ("meejah", "2018-10-05", False),  # txtorcon 18.2.0, 00:19 UTC
    ]
    whole = responses.unanswered(_frame(twisted_db))
    assert len(whole) == 12
    assert [(u.name, u.date[:10]) for u in whole if u.newcomer] == [
        ("meejah", "2018-09-27"),
        ("trac", "2018-09-02"),
    ]


def test_cohorts_and_retention(twisted_db: sqlite3.Connection) -> None:
    frame = _frame(twisted_db)
    # last post in the scope: O26, 10-31 21:15 UTC.  With 30 days, September (ends 10-01;
    # +30 d = 10-31 00:00) is known: Kyle, Robert, JP, Randall, Tristan, whalebot and John
    # posted for the last time in September.  October cannot be known.
    rows = cohorts.cohort_counts(frame, lapse_days=30)
    assert [(r.period, r.active, r.newcomers, r.returning, r.lapsed) for r in rows] == [
        ("2018-09", 12, 12, 0, 7),
        ("2018-10", 9, 4, 5, None),
    ]
    assert [r.lapsed for r in cohorts.cohort_counts(frame)] == [None, None]  # 180 days
    # September's 12: Glyph, meejah, trac, Amber and Jeff post again in October
    found = cohorts.retention(frame, horizon=2)
    assert [(r.cohort, r.size, r.retained) for r in found.rows] == [
        ("2018-09", 12, (12, 5, None)),
        ("2018-10", 4, (4, None, None)),
    ]
    newcomers = cohorts.newcomers(_frame(twisted_db, *OCTOBER))
    # Donal (O25, a reply: Jeff answered with O26), Wim (O10, Glyph answered with O12),
    # Evilham (O6, answered by Glyph O8), Barry (O1, answered by Wim O11)
    assert [(n.name, n.started_thread, n.answered) for n in newcomers] == [
        ("Donal McMullan", False, True),
        ("Wim Lewis", False, True),
        ("Evilham", True, True),
        ("Scott, Barry", True, True),
    ]


def test_network(twisted_db: sqlite3.Connection) -> None:
    found = network.network(_frame(twisted_db))
    # 25 replies with a known author answered (49 posts - 23 thread starts - S7, whose
    # parent is missing); self: S10, O17; 18 distinct edges among 14 people (everyone but
    # trac and meejah)
    assert (found.reply_posts, found.self_replies, found.edges_total, found.people) == (
        25,
        2,
        18,
        14,
    )
    # Glyph -> Wim: O12, O13, O22; then the 2s: Evilham -> Glyph (O9, O20), Glyph -> Amber
    # (O2, O19), Wim -> Barry (O11, O15)
    assert [(e.source_name, e.target_name, e.replies) for e in found.edges[:4]] == [
        ("Glyph", "Wim Lewis", 3),
        ("Evilham", "Glyph", 2),
        ("Glyph", "Amber Brown", 2),
        ("Wim Lewis", "Scott, Barry", 2),
    ]
    # Glyph & Evilham 1 + 2 (answered both ways) before Glyph & Wim 3 + 0
    assert {found.pairs[0].a_name, found.pairs[0].b_name} == {"Glyph", "Evilham"}
    assert found.pairs[0].replies == 3 and found.pairs[1].replies == 3
    top = found.connectors[:3]
    # Glyph replied to Tristan, whalebot, John, Amber, Evilham, Wim and was answered by
    # Kyle, Jeff, Evilham, Barry: 9 counterparts; he answered 2 people in rc1 (John S23,
    # Amber O2) and in DNS (Evilham O8, Wim O12).  Wim: Evilham, Barry, Glyph.  Evilham:
    # Glyph and Wim, 4 replies given and received (the most among the 2-counterpart people)
    assert [
        (c.name, c.counterparts, c.bridging_threads, c.replies_given, c.replies_received)
        for c in top
    ] == [
        ("Glyph", 9, 2, 9, 5),
        ("Wim Lewis", 3, 0, 3, 3),
        ("Evilham", 2, 0, 2, 2),
    ]


def test_person(twisted_db: sqlite3.Connection) -> None:
    frame = _frame(twisted_db)
    glyph = person_activity(frame, _pid(frame, "Glyph"))
    assert (glyph.messages, glyph.threads, glyph.threads_started) == (11, 9, 2)
    assert (glyph.replies_given, glyph.replies_received, glyph.self_replies) == (9, 5, 0)
    assert [(p.period, p.messages, p.threads_started, p.replies_given) for p in glyph.periods] == [
        ("2018-09", 4, 2, 2),
        ("2018-10", 7, 0, 7),
    ]
    # Logger (S3, 07:27:22) is two minutes newer than T9217 (S2); Jeff answered Logger after
    # 572,762 s, Kyle T9217 after 19,130 s (Kyle's S7 counts as a post by someone else)
    assert [
        (t.messages, t.replies, t.participants, t.first_reply_seconds) for t in glyph.started
    ] == [(3, 2, 2, 572762), (3, 2, 2, 19130)]
    assert [(p.name, p.count) for p in glyph.replied_to[:2]] == [
        ("Wim Lewis", 3),
        ("Amber Brown", 2),
    ]
    assert [(p.name, p.count) for p in glyph.replied_by] == [
        ("Evilham", 2),
        ("Jeff Grimmett", 1),
        ("Kyle Altendorf", 1),
        ("Scott, Barry", 1),
    ]
