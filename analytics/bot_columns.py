"""The bot scores of `analytics.bots` over columns (issue 14, task PN): the visible dated posts
read as parallel lists, every string made an integer code once (persons, subject templates,
threads; a reply's parent resolved to its author by one dict), then each signal counted with
numpy per person instead of a Python loop over each person's posts.

Ties are the loop's: a person's hour and template are their most used, the first used among
equals (the posts in the order the store hands them over).  The loop is kept as the reference
in tests/analytics/legacy/bots.py (tests/analytics/test_bot_columns.py).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from itertools import compress, repeat
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from analytics.bots import (
    MIN_POSTS,
    TEMPLATE_THREADS,
    WEIGHTS,
    BotScore,
    _reasons,
    _share,
    automated_name,
    template,
)
from store import visibility

Ints = NDArray[np.int64]
CHUNK = 20_000


class Posts(NamedTuple):
    """Dated posts as parallel columns (what the score reads of each `bots.Sample`)."""

    persons: list[int]
    keys: list[str]
    dates: list[int]
    threads: list[str]  # the thread id, or the post's own key when it has none
    parents: list[str | None]  # the direct parent's key (None: none, or not direct)
    subjects: list[str]


def scan(
    conn: sqlite3.Connection, viewer: visibility.Visibility
) -> tuple[Posts, dict[int, tuple[str, ...]]]:
    """The visible dated posts, and per person the addresses and names they send with (every
    identity's value, then their three commonest names: ties to the first used)."""
    person_of: dict[int, int] = dict(conn.execute("SELECT id, person FROM identities").fetchall())
    where = viewer.messages("m")
    cursor = conn.execute(  # in the order of the messages' ids: the ties go to the first
        "SELECT m.identity, m.date, m.key, m.thread_id, m.parent_key, m.parent_direct, "
        f"m.subject FROM messages m WHERE {where} ORDER BY m.id"
    )
    posts = Posts([], [], [], [], [], [])
    while rows := cursor.fetchmany(CHUNK):  # a chunk of rows at a time beside the columns
        identity, dates, keys, thread, parent, direct, subject = zip(*rows, strict=True)
        del rows
        dated = [d is not None for d in dates]
        posts.persons.extend(map(person_of.get, compress(identity, dated), repeat(0)))
        posts.keys.extend(map(str, compress(keys, dated)))
        posts.dates.extend(int(d) for d in compress(dates, dated))
        posts.threads.extend(
            t or str(k) for t, k in compress(zip(thread, keys, strict=True), dated)
        )
        posts.parents.extend(
            p if p and d != 0 else None
            for p, d in compress(zip(parent, direct, strict=True), dated)
        )
        posts.subjects.extend(map(str, compress(subject, dated)))
    return posts, _senders(conn, where, person_of)


def _senders(
    conn: sqlite3.Connection, where: str, person_of: dict[int, int]
) -> dict[int, tuple[str, ...]]:
    """Per person: every identity's value, then the three names they sign the visible
    messages with most (ties to the name used first: the smaller message id).  The names are
    counted from the index `messages (identity, from_name)` (migration 18)."""
    senders: dict[int, tuple[str, ...]] = {}
    for person, value in conn.execute(
        "SELECT person, value FROM identities WHERE kind != 'unknown'"
    ):
        senders[int(person)] = (*senders.get(int(person), ()), str(value))
    used: dict[tuple[int, str], list[int]] = {}  # (person, name) -> [messages, first id]
    for identity, name, count, first in conn.execute(
        f"SELECT m.identity, m.from_name, COUNT(*), MIN(m.id) FROM messages m WHERE {where} "
        "GROUP BY m.identity, m.from_name"
    ):
        held = used.setdefault((person_of.get(identity, 0), str(name)), [0, int(first)])
        held[0] += int(count)
        held[1] = min(held[1], int(first))
    by_person: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for (person, name), (count, first) in used.items():
        by_person[person].append((-count, first, name))
    for person, counted in by_person.items():
        commonest = sorted(counted)[:3]
        senders[person] = (*senders.get(person, ()), *(name for _, _, name in commonest))
    return senders


def _codes(values: list[str]) -> tuple[Ints, int]:
    """Each value's code (codes in the order values first appear) and how many there are."""
    seen: dict[str, int] = {}
    found = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.int64, len(values))
    return found, len(seen)


def _most_used(group: Ints, value: Ints, groups: int, values: int) -> tuple[Ints, Ints]:
    """Per group: its most frequent value and that count; ties to the value seen first."""
    pair = group * values + value
    counts = np.bincount(pair, minlength=groups * values).reshape(groups, values)
    first = np.full(groups * values, len(pair), np.int64)
    np.minimum.at(first, pair, np.arange(len(pair)))
    # the most counted, then the earliest: count * (n + 1) + (n - first position)
    rank = counts * (len(pair) + 1) + (len(pair) - first.reshape(groups, values))
    best = np.argmax(rank, axis=1)
    return best, counts[np.arange(groups), best]


def _templates(
    code: Ints, tmpl: Ints, threads: Ints, people: int, nonempty: list[bool]
) -> tuple[Ints, Ints]:
    """Per person: the posts whose template (not empty) they used in `TEMPLATE_THREADS` or
    more threads, and their most used template (ties to the first used).  Sparse: only the
    (person, template) pairs that occur."""
    pair = code * len(nonempty) + tmpl
    used, first, counts = np.unique(pair, return_index=True, return_counts=True)
    order = np.lexsort((threads, pair))  # distinct (pair, thread): where either changes
    by_pair, by_thread = pair[order], threads[order]
    new = np.ones(len(pair), np.bool_)
    new[1:] = (by_pair[1:] != by_pair[:-1]) | (by_thread[1:] != by_thread[:-1])
    spread = np.unique(by_pair[new], return_counts=True)[1]  # aligned with `used`
    owner, which = used // len(nonempty), used % len(nonempty)
    fixed_pair = (spread >= TEMPLATE_THREADS) & np.asarray(nonempty, np.bool_)[which]
    fixed = np.zeros(people, np.int64)
    np.add.at(fixed, owner[fixed_pair], counts[fixed_pair])
    best = np.lexsort((first, -counts, owner))  # per person: most used, then first used
    starts = best[np.r_[True, owner[best][1:] != owner[best][:-1]]]
    common = np.zeros(people, np.int64)
    common[owner[starts]] = which[starts]
    return fixed, common


def score_posts(
    posts: Posts, senders: dict[int, tuple[str, ...]], *, min_posts: int = MIN_POSTS
) -> list[BotScore]:
    """`bots.score` over columns: the same scores, highest first."""
    count = len(posts.persons)
    if not count:
        return []
    person_ids, code = np.unique(np.fromiter(posts.persons, np.int64, count), return_inverse=True)
    people = len(person_ids)
    n = np.bincount(code, minlength=people)
    # a reply to someone else's post: the reply gives one, the parent is answered
    author = dict(zip(posts.keys, posts.persons, strict=True))
    parent_author = np.fromiter(
        (-1 if p is None else author.get(p, -1) for p in posts.parents), np.int64, count
    )
    to_other = (parent_author >= 0) & (parent_author != person_ids[code])
    given = np.bincount(code[to_other], minlength=people)
    answered = set(compress(posts.parents, to_other.tolist()))
    got = np.fromiter(map(answered.__contains__, posts.keys), np.bool_, count)
    got_answer = np.bincount(code[got], minlength=people)
    hour_of, in_hour = _most_used(code, np.asarray(posts.dates, np.int64) // 3600 % 24, people, 24)
    # subject templates, each distinct subject templated once, as codes
    of_subject = {s: template(s) for s in dict.fromkeys(posts.subjects)}
    names = list(dict.fromkeys(of_subject.values()))
    template_code = {t: i for i, t in enumerate(names)}
    per_subject = {s: template_code[t] for s, t in of_subject.items()}
    tmpl = np.fromiter(map(per_subject.__getitem__, posts.subjects), np.int64, count)
    threads, _ = _codes(posts.threads)
    fixed, common = _templates(code, tmpl, threads, people, [bool(t) for t in names])
    found: list[BotScore] = []
    columns = (n, given, got_answer, fixed, hour_of, in_hour, common)
    for person, (total, gave, got_one, fix, hour, at_hour, most) in zip(
        person_ids.tolist(), zip(*(c.tolist() for c in columns), strict=True), strict=True
    ):
        if total < min_posts:
            continue
        word = automated_name(*senders.get(person, ()))
        signals = {
            "fixed_subjects": _share(fix, total),
            "unanswered": _share(total - got_one, total),
            "no_replies_given": _share(total - gave, total),
            "same_hour": _share(at_hour, total),
            "automated_name": 1.0 if word else 0.0,
        }
        value = round(sum(WEIGHTS[k] * v for k, v in signals.items()), 4)
        reasons = _reasons(signals, total, names[most], hour, word)
        found.append(BotScore(person, total, value, signals, reasons, names[most]))
    found.sort(key=lambda b: (-b.score, -b.posts, b.person))
    return found
