"""Suggested bots: persons whose traffic looks automated (docs/identities.md, "Bots").

A suggestion only: nobody is marked without a decision (`store.bots`), and a "not a bot"
decision keeps a person from being suggested again.  Each person with at least `min_posts`
dated posts gets five signals, each a share between 0 and 1:

- `fixed_subjects`: posts whose subject follows a template the person used in at least
  `TEMPLATE_THREADS` different threads (a template is the subject folded, `Re:`/`Fwd:` dropped,
  digits as `#`, cut after its first number and at four words: "[twisted-python] weekly bug
  summary", "[github] maven-surefire pull request", "[twisted-trac] #:");
- `unanswered`: posts nobody else replied to;
- `no_replies_given`: posts that do not reply to someone else's message;
- `same_hour`: posts in the person's most common hour of the day (UTC);
- `automated_name`: 1 when the name or address is a word automated senders use (trac,
  noreply, bot, notifications, mailer-daemon, github, jenkins...), as a word of its own: a
  person called "whalebot" is not one.

The score is their weighted sum (`WEIGHTS`, total 1); a person is suggested at `THRESHOLD` or
more, with the reasons that made the score.  Heavy human posters answer other people and get
answers: they score low whatever their subjects.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from store import bot_scores, bots, identities, visibility

logger = logging.getLogger(__name__)

MIN_POSTS = 10
TEMPLATE_THREADS = 3
THRESHOLD = 0.65
WEIGHTS = {
    "fixed_subjects": 0.3,
    "unanswered": 0.25,
    "no_replies_given": 0.2,
    "same_hour": 0.1,
    "automated_name": 0.15,
}
AUTOMATED_WORDS = (
    "bot",
    "robot",
    "trac",
    "buildbot",
    "jenkins",
    "hudson",
    "jira",
    "bugzilla",
    "gerrit",
    "github",
    "gitbox",
    "gitlab",
    "git",
    "svn",
    "cvs",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "notification",
    "notifications",
    "notify",
    "mailer-daemon",
    "postmaster",
    "daemon",
    "cron",
    "automated",
    "autoreply",
)
_WORDS = re.compile(
    r"(?:^|[^a-z0-9])("
    + "|".join(re.escape(w).replace(r"\-", "[-_.]?") for w in AUTOMATED_WORDS)
    + r")(?:$|[^a-z0-9])"
)
_REPLY_PREFIX = re.compile(r"^(?:re|fwd?|aw|sv|wg|antw|tr)(?:\[\d+\])?:$")
_DIGITS = re.compile(r"#*\d+")  # "#1234" and "1234" alike
_TEMPLATE_WORDS = 4


class Sample(NamedTuple):
    """One post, as the score needs it."""

    person: int
    key: str
    date: int | None
    thread: str | None
    parent: str | None  # the key of the message it directly replies to
    subject: str


@dataclass(frozen=True, slots=True)
class BotScore:
    person: int
    posts: int
    score: float
    signals: dict[str, float]
    reasons: tuple[str, ...]
    template: str  # the most used subject template


@dataclass(frozen=True, slots=True)
class Suggestion:
    key: str
    name: str
    posts: int
    score: float
    signals: dict[str, float]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            "posts": self.posts,
            "score": self.score,
            "signals": dict(self.signals),
            "reasons": list(self.reasons),
        }


def template(subject: str) -> str:
    """The fixed part of a subject: folded, reply prefixes dropped, digits as `#`, up to and
    including the first word with a number, at most four words."""
    words = [w for w in subject.casefold().split() if not _REPLY_PREFIX.match(w)]
    found: list[str] = []
    for word in words[:_TEMPLATE_WORDS]:
        found.append(_DIGITS.sub("#", word))
        if "#" in found[-1]:
            break
    return " ".join(found)


def automated_name(*texts: str) -> str | None:
    """The automated-sender word in a name or address, if any."""
    for text in texts:
        match = _WORDS.search(text.casefold())
        if match:
            return match.group(1)
    return None


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def score(
    samples: Iterable[Sample],
    senders: dict[int, tuple[str, ...]],
    *,
    min_posts: int = MIN_POSTS,
) -> list[BotScore]:
    """Every person with at least `min_posts` dated posts and their bot score, highest
    first.  `senders`: per person, the names and addresses they send with.  Pure (counted
    over columns: `analytics.bot_columns`)."""
    from analytics import bot_columns  # it imports this module

    posts = [s for s in samples if s.date is not None]
    columns = bot_columns.Posts(
        [s.person for s in posts],
        [s.key for s in posts],
        [int(s.date or 0) for s in posts],
        [s.thread or s.key for s in posts],
        [s.parent or None for s in posts],
        [s.subject for s in posts],
    )
    return bot_columns.score_posts(columns, senders, min_posts=min_posts)


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


_CACHE: dict[tuple[object, ...], list[BotScore]] = {}
_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget the cached scores (`webui.stats_prepare`)."""
    with _LOCK:
        _CACHE.clear()


@contextmanager
def _collector_off() -> Iterator[None]:
    """The cyclic garbage collector paused while every visible message is read and scored: the
    million samples (tuples holding strings, no cycles) set off full collections that walk them
    and every frame, 2-3 s of the 11-12 s at 1M; reference counting frees them as before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def scores(conn: sqlite3.Connection, viewer: visibility.Visibility) -> list[BotScore]:
    """The scores of every person over the messages `viewer` may see (cached per store
    file, change sequence, persons version and access; kept in the store for every other
    process: `store.bot_scores`, `configure`)."""
    path = next((str(r[2]) for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    seq = conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
    key = (path, seq[0] if seq else "0", identities.version(conn), viewer)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is None:
        hit = _kept_or_computed(conn, path, viewer)
        with _LOCK:
            _CACHE.clear()  # one store and access at a time is what the pages ask for
            _CACHE[key] = hit
    return hit


KEEP: dict[str, int] = {"max_bytes": 0}
"""Bytes the kept scores may take with the frame snapshots (0: scores neither kept nor read:
`configure`)."""
_ALLOWED: list[Callable[[], bool]] = []


def configure(max_bytes: int, allowed: Callable[[], bool] | None = None) -> None:
    """Keep the scores in the store (`store.bot_scores`) within `max_bytes` (0: never);
    `allowed`: whether they are kept and read for the current caller (the web UI's
    ``BOT_SCORES_KEPT``)."""
    KEEP["max_bytes"] = max_bytes
    _ALLOWED[:] = [allowed] if allowed else []


def _keeping(path: str) -> bool:
    return bool(path) and KEEP["max_bytes"] > 0 and all(allowed() for allowed in _ALLOWED)


@cache
def _code_digest() -> str:
    """The scoring code's digest (a kept score from other code is not this code's)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in ("analytics/bots.py", "analytics/bot_columns.py", "store/visibility.py"):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()[:16]


def kept_key(viewer: visibility.Visibility) -> str:
    """What kept scores depend on besides the state of the archive: the reader's access and
    the scoring code."""
    access = [viewer.include_private, sorted(viewer.hidden_lists), viewer.removals]
    return json.dumps([access, _code_digest()], separators=(",", ":"))


def _kept_or_computed(
    conn: sqlite3.Connection, path: str, viewer: visibility.Visibility
) -> list[BotScore]:
    keeping = _keeping(path)
    current = bot_scores.state(conn)  # before the scan: a change meanwhile is not kept
    key = kept_key(viewer)
    if keeping:
        text = bot_scores.get(conn, key, current)
        found = None if text is None else decode(text)
        if found is not None:
            return found
        if text is not None:
            logger.warning("kept bot scores ignored (damaged): computed again")
    from analytics import bot_columns  # it imports this module

    with _collector_off():
        posts, senders = bot_columns.scan(conn, viewer)
        computed = bot_columns.score_posts(posts, senders)
    if keeping and not bot_scores.put(
        Path(path), key, current, encode(computed), KEEP["max_bytes"]
    ):
        logger.debug("bot scores not kept (store busy, read-only or changed)")
    return computed


def encode(found: list[BotScore]) -> str:
    """The scores as JSON text (`decode` reads them back equal)."""
    rows = [[b.person, b.posts, b.score, b.signals, list(b.reasons), b.template] for b in found]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> list[BotScore] | None:
    """The scores `encode` wrote, or None when `text` is not such a list (damaged)."""
    try:
        rows = json.loads(text)
        return [_score(row) for row in rows] if isinstance(rows, list) else None
    except (ValueError, TypeError, RecursionError):
        return None


def _score(row: object) -> BotScore:
    if not isinstance(row, list) or len(row) != 6:
        raise ValueError("not a score")
    person, posts, value, signals, reasons, common = row
    if not (
        type(person) is int
        and type(posts) is int
        and type(value) is float
        and isinstance(signals, dict)
        and list(signals) == list(WEIGHTS)
        and all(type(v) is float for v in signals.values())
        and isinstance(reasons, list)
        and all(isinstance(r, str) for r in reasons)
        and isinstance(common, str)
    ):
        raise ValueError("not a score")
    return BotScore(person, posts, value, dict(signals), tuple(reasons), common)


def suggestions(
    conn: sqlite3.Connection,
    viewer: visibility.Visibility,
    *,
    threshold: float = THRESHOLD,
    limit: int = 100,
) -> list[Suggestion]:
    """Persons who look like bots and have no decision yet (neither marked as bots nor
    decided "not a bot"), highest score first."""
    decided = bots.decided_ids(conn)
    live = {
        int(i): (str(k), str(n))
        for i, k, n in conn.execute("SELECT id, key, name FROM persons WHERE merged_into IS NULL")
    }
    found = [
        Suggestion(live[b.person][0], live[b.person][1], b.posts, b.score, b.signals, b.reasons)
        for b in scores(conn, viewer)
        if b.score >= threshold and b.person not in decided and b.person in live
    ]
    return found[:limit]
