"""The bot scores as they were before issue 14's task PN (a loop over each person's posts,
commit 7a3c40a): the reference the scores over columns (`analytics.bot_columns`) are compared
with (tests/analytics/test_bot_columns.py).  Kept verbatim apart from their imports; not used
by the application."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable

from analytics.bots import (
    MIN_POSTS,
    TEMPLATE_THREADS,
    WEIGHTS,
    BotScore,
    Sample,
    _share,
    automated_name,
    template,
)
from store import visibility


def score(
    samples: Iterable[Sample],
    senders: dict[int, tuple[str, ...]],
    *,
    min_posts: int = MIN_POSTS,
) -> list[BotScore]:
    """Every person with at least `min_posts` dated posts and their bot score, highest
    first.  `senders`: per person, the names and addresses they send with.  Pure."""
    posts = [s for s in samples if s.date is not None]
    author = {s.key: s.person for s in posts}
    answered = {s.parent for s in posts if s.parent and author.get(s.parent, s.person) != s.person}
    mine: dict[int, list[Sample]] = defaultdict(list)
    for s in posts:
        mine[s.person].append(s)
    found: list[BotScore] = []
    of_subject: dict[str, str] = {}  # subjects repeat (a thread's replies): each templated once
    for person, own in mine.items():
        n = len(own)
        if n < min_posts:
            continue
        threads: dict[str, set[str]] = defaultdict(set)
        templates: Counter[str] = Counter()
        for s in own:
            t = of_subject.get(s.subject)
            if t is None:
                t = of_subject[s.subject] = template(s.subject)
            templates[t] += 1
            threads[t].add(s.thread or s.key)
        fixed = sum(c for t, c in templates.items() if t and len(threads[t]) >= TEMPLATE_THREADS)
        hours = Counter(int(s.date or 0) // 3600 % 24 for s in own)  # the UTC hour
        hour, in_hour = hours.most_common(1)[0]
        given = sum(1 for s in own if s.parent and author.get(s.parent) not in (None, person))
        unanswered = sum(1 for s in own if s.key not in answered)
        word = automated_name(*senders.get(person, ()))
        signals = {
            "fixed_subjects": _share(fixed, n),
            "unanswered": _share(unanswered, n),
            "no_replies_given": _share(n - given, n),
            "same_hour": _share(in_hour, n),
            "automated_name": 1.0 if word else 0.0,
        }
        total = round(sum(WEIGHTS[k] * v for k, v in signals.items()), 4)
        common = templates.most_common(1)[0][0]
        reasons = _reasons(signals, n, common, hour, word)
        found.append(BotScore(person, n, total, signals, reasons, common))
    found.sort(key=lambda b: (-b.score, -b.posts, b.person))
    return found


def _reasons(
    signals: dict[str, float], n: int, common: str, hour: int, word: str | None
) -> tuple[str, ...]:
    reasons: list[str] = []
    if signals["fixed_subjects"] >= 0.5:
        reasons.append(
            f"{signals['fixed_subjects']:.0%} of {n} posts have fixed subjects (“{common}”)"
        )
    if signals["unanswered"] >= 0.8:
        reasons.append(f"{signals['unanswered']:.0%} of the posts got no reply")
    if signals["no_replies_given"] >= 0.8:
        reasons.append(f"{signals['no_replies_given']:.0%} of the posts answer nobody")
    if signals["same_hour"] >= 0.5:
        reasons.append(
            f"{signals['same_hour']:.0%} posted between {hour:02d}:00 and {hour:02d}:59 UTC"
        )
    if word:
        reasons.append(f"the sender is called “{word}”")
    return tuple(reasons)


def _samples(
    conn: sqlite3.Connection, viewer: visibility.Visibility
) -> tuple[list[Sample], dict[int, tuple[str, ...]]]:
    person_of: dict[int, int] = dict(conn.execute("SELECT id, person FROM identities").fetchall())
    samples: list[Sample] = []
    names: dict[int, Counter[str]] = defaultdict(Counter)
    for key, date, thread, parent, direct, identity, subject, from_name in conn.execute(
        "SELECT m.key, m.date, m.thread_id, m.parent_key, m.parent_direct, m.identity, "
        f"m.subject, m.from_name FROM messages m WHERE {viewer.messages('m')}"
    ):
        person = person_of.get(identity, 0)
        samples.append(
            Sample(person, str(key), date, thread, parent if direct != 0 else None, str(subject))
        )
        names[person][str(from_name)] += 1
    senders: dict[int, tuple[str, ...]] = {}
    for identity_person, value in conn.execute(
        "SELECT person, value FROM identities WHERE kind != 'unknown'"
    ):
        senders[int(identity_person)] = (*senders.get(int(identity_person), ()), str(value))
    for person, counted in names.items():
        senders[person] = (*senders.get(person, ()), *(n for n, _ in counted.most_common(3)))
    return samples, senders
