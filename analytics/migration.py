"""The migration audit of a community that moved from an old list to a new one.

Computed on persons (identities grouped into persons, merges followed), so someone who moved
with another address that was merged into the same person counts as moved.  Definitions
(docs/migration-audit.md has the edge cases):

- cutover `C`: the community's cutover day (00:00 UTC); when none is declared, the day of
  the first post that is on the new list and not on the old one (`cutover_inferred`).  Close
  `D`: the community's close day, optional.  Window start `S`: `since`, else `C - window_days`.
- an *old-list post* is a post on the old list; a *new-list post* is a post on the new list,
  except a post on both lists dated before `C` (an archive import or a copy of old history:
  it is old-list history only).  A post on both lists from `C` on counts for both.
- statuses (every person with a new-list post or an old-list post dated `S` or later gets
  exactly one; the unknown sender is never a person here):
  `moved` old-list post since `S` and a new-list post; `old_only` old-list post since `S`,
  none on the new list, old-list post from `C` on; `not_yet_seen` old-list posts since `S`
  only before `C`, none on the new list; `new_face` new-list post, never an old-list post;
  `returning` new-list post, old-list posts only before `S`.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics.frame import Frame, Post, load_frame
from analytics.scope import resolve_scope
from store import communities
from store.identities import UNKNOWN, IdentityRef, person_key

MOVED, OLD_ONLY, NOT_YET_SEEN = "moved", "old_only", "not_yet_seen"
NEW_FACE, RETURNING = "new_face", "returning"
STATUSES = (MOVED, OLD_ONLY, NOT_YET_SEEN, NEW_FACE, RETURNING)
PERSON_COLUMNS = (
    "key",
    "name",
    "status",
    "active_before",
    "old_posts_in_window",
    "first_new",
    "new_posts",
    "old_after_cutover",
    "last_old_after_cutover",
    "last_post",
)
_UNKNOWN_KEY = person_key(IdentityRef(UNKNOWN, ""))


class AuditError(ValueError):
    """The community cannot be audited (unknown, no old/new list, no cutover)."""


@dataclass(frozen=True, slots=True)
class Setup:
    community: str
    old_list: str
    new_list: str
    old_new_inferred: bool
    cutover: date
    cutover_inferred: bool
    closed: date | None
    since: date
    window_days: int | None


@dataclass(slots=True)
class _Acc:
    old_in_window: int = 0
    old_since: int = 0
    old_ever: int = 0
    old_after: int = 0
    last_old_after: int | None = None
    new_posts: int = 0
    first_new: int | None = None
    last_post: int | None = None


@dataclass(slots=True)
class Audit:
    setup: Setup
    summary: dict[str, int]
    persons: list[dict[str, Any]]
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    threads: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        s = self.setup
        return {
            "community": s.community,
            "old_list": s.old_list,
            "new_list": s.new_list,
            "old_new_inferred": s.old_new_inferred,
            "cutover": s.cutover.isoformat(),
            "cutover_inferred": s.cutover_inferred,
            "closed": s.closed.isoformat() if s.closed else None,
            "since": s.since.isoformat(),
            "window_days": s.window_days,
            "summary": dict(self.summary),
            "persons": list(self.persons),
            "old_after_cutover": self.messages.get("old_after_cutover", []),
            "old_after_close": self.messages.get("old_after_close", []),
            "cross_posted": self.messages.get("cross_posted", []),
            "continued_threads": list(self.threads),
        }

    def message_table(self, name: str) -> tuple[list[str], list[list[object]]]:
        """One message list (`old_after_cutover`, `old_after_close`, `cross_posted`) or
        `continued_threads` as a CSV table."""
        rows: list[dict[str, Any]] = (
            self.threads if name == "continued_threads" else self.messages.get(name, [])
        )
        if name == "continued_threads":
            header = ["thread_id", "subject", "started", "first_on_new", "old_posts", "new_posts"]
        else:
            header = ["key", "date", "subject", "person_key", "person_name", "lists"]
        return header, [[" ".join(r[c]) if c == "lists" else r[c] for c in header] for r in rows]

    def person_table(self, status: str | None = None) -> tuple[list[str], list[list[object]]]:
        """The per-person table (CSV): header and rows, optionally of one status."""
        rows = [
            [p[c] for c in PERSON_COLUMNS]
            for p in self.persons
            if status is None or p["status"] == status
        ]
        return list(PERSON_COLUMNS), rows


def _ts(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _setup(
    conn: sqlite3.Connection,
    frame_posts: list[Post],
    name: str,
    ids: dict[str, int],
    window_days: int | None,
    since: date | None,
) -> Setup:
    community = communities.get(conn, name)
    old, new, inferred = communities.old_and_new(conn, community)
    if not old or not new:
        raise AuditError(
            f"community {name}: which list is old and which is new is unknown "
            "(declare them: communities add NAME --lists A,B --old A --new B)"
        )
    cutover_inferred = False
    if community.cutover:
        cutover = date.fromisoformat(community.cutover)
    else:
        first = next(
            (p.date for p in frame_posts if ids[new] in p.lists and ids[old] not in p.lists), None
        )
        if first is None:
            raise AuditError(f"community {name}: no cutover date and no post on {new} yet")
        cutover, cutover_inferred = datetime.fromtimestamp(first, UTC).date(), True
    closed = date.fromisoformat(community.closed) if community.closed else None
    days = None if since else (window_days if window_days is not None else 365)
    start = since or cutover - timedelta(days=days or 0)
    if start > cutover:
        raise AuditError(f"the window start ({start}) is after the cutover ({cutover})")
    return Setup(name, old, new, inferred, cutover, cutover_inferred, closed, start, days)


def _frame(conn: sqlite3.Connection, name: str) -> tuple[Frame, dict[str, int]]:
    try:
        community = communities.get(conn, name)
    except communities.CommunityError as exc:
        raise AuditError(str(exc)) from exc
    scope = resolve_scope(conn, lists=community.lists, include_private=True)
    return load_frame(conn, scope), dict(zip(scope.lists, scope.list_ids, strict=True))


def audit(
    conn: sqlite3.Connection,
    community: str,
    *,
    window_days: int | None = 365,
    since: date | None = None,
    message_limit: int | None = None,
) -> Audit:
    """The audit of `community` (see the module docstring for every definition).

    `message_limit` keeps the first (oldest) that many rows of each message and thread list
    (a page); the summary counts them all."""
    frame, ids = _frame(conn, community)
    setup = _setup(conn, frame.posts, community, ids, window_days, since)
    result = audit_frame(frame, setup, ids[setup.old_list], ids[setup.new_list])
    if message_limit is not None:
        result.messages = {k: v[:message_limit] for k, v in result.messages.items()}
        result.threads = result.threads[:message_limit]
    _add_subjects(conn, result)
    return result


def audit_frame(frame: Frame, setup: Setup, old: int, new: int) -> Audit:
    """The audit computed from a frame (pure: no database)."""
    cut, since = _ts(setup.cutover), _ts(setup.since)
    close = _ts(setup.closed) if setup.closed else None
    acc: dict[int, _Acc] = defaultdict(_Acc)
    messages: dict[str, list[dict[str, Any]]] = {
        "old_after_cutover": [],
        "old_after_close": [],
        "cross_posted": [],
    }
    both_before = 0
    by_thread: dict[str, list[Post]] = defaultdict(list)
    for post in frame.posts:
        on_old, on_new = old in post.lists, new in post.lists
        counts_new = _counts_new(post, old, new, cut)
        if not on_old and not counts_new:
            continue  # another list of the community
        by_thread[post.thread].append(post)
        a = acc[post.person]
        a.last_post = post.date
        if on_old:
            a.old_ever += 1
            a.old_since += post.date >= since
            a.old_in_window += since <= post.date < cut
            if post.date >= cut:
                a.old_after += 1
                a.last_old_after = post.date
                messages["old_after_cutover"].append(_message(frame, post, on_new))
            if close is not None and post.date >= close:
                messages["old_after_close"].append(_message(frame, post, on_new))
        if counts_new:
            a.new_posts += 1
            if a.first_new is None:
                a.first_new = post.date
        if on_old and on_new:
            if post.date >= cut:
                messages["cross_posted"].append(_message(frame, post, True))
            else:
                both_before += 1
    persons = [_person_row(frame, pid, a) for pid, a in acc.items()]
    rows = sorted(
        (p for p in persons if p is not None),
        key=lambda p: (STATUSES.index(p["status"]), p["name"].casefold(), p["key"]),
    )
    summary = {status: sum(1 for p in rows if p["status"] == status) for status in STATUSES}
    summary["persons"] = len(rows)
    summary["active_before"] = sum(1 for p in rows if p["active_before"])
    # the figures a reader adds up: the statuses sum to `persons`; the three old-list statuses
    # sum to `active_since` (old-list post since S, before or after C), of whom `active_before`
    # posted before C and `active_only_after_cutover` only from C on
    summary["active_since"] = summary[MOVED] + summary[OLD_ONLY] + summary[NOT_YET_SEEN]
    summary["active_only_after_cutover"] = summary["active_since"] - summary["active_before"]
    summary["on_new_list"] = summary[MOVED] + summary[NEW_FACE] + summary[RETURNING]
    summary["moved_still_on_old"] = sum(
        1 for p in rows if p["status"] == MOVED and p["old_after_cutover"]
    )
    summary["old_after_cutover_messages"] = len(messages["old_after_cutover"])
    summary["old_after_close_messages"] = len(messages["old_after_close"])
    summary["cross_posted_messages"] = len(messages["cross_posted"])
    summary["both_lists_before_cutover"] = both_before
    threads = list(_continued(frame, by_thread, old, new, cut))
    summary["continued_threads"] = len(threads)
    return Audit(setup, summary, rows, messages, threads)


def status_of(a: _Acc) -> str | None:
    """The one status of a person's counts, or None outside the audit."""
    if a.new_posts:
        if not a.old_ever:
            return NEW_FACE
        return MOVED if a.old_since else RETURNING
    if not a.old_since:
        return None
    return OLD_ONLY if a.old_after else NOT_YET_SEEN


def _person_row(frame: Frame, pid: int, a: _Acc) -> dict[str, Any] | None:
    ref = frame.person(pid)
    status = status_of(a)
    if status is None or ref.key in ("", _UNKNOWN_KEY):
        return None
    return {
        "key": ref.key,
        "name": ref.name,
        "status": status,
        "active_before": a.old_in_window > 0,
        "old_posts_in_window": a.old_in_window,
        "first_new": _day(a.first_new),
        "new_posts": a.new_posts,
        "old_after_cutover": a.old_after,
        "last_old_after_cutover": _day(a.last_old_after),
        "last_post": _day(a.last_post),
    }


def _message(frame: Frame, post: Post, on_new: bool) -> dict[str, Any]:
    ref = frame.person(post.person)
    return {
        "key": post.key,
        "date": _iso(post.date),
        "subject": "",
        "person_key": ref.key,
        "person_name": ref.name,
        "thread_id": post.thread,
        "lists": sorted(frame.list_names.get(i, "") for i in post.lists),
        "also_on_new": on_new,
    }


def _counts_new(post: Post, old: int, new: int, cut: int) -> bool:
    return new in post.lists and (old not in post.lists or post.date >= cut)


def _continued(
    frame: Frame, by_thread: dict[str, list[Post]], old: int, new: int, cut: int
) -> Iterator[dict[str, Any]]:
    """Threads whose first post is old-list only and that have a later new-list post."""
    for thread_id, posts in by_thread.items():
        first = posts[0]
        if old not in first.lists or _counts_new(first, old, new, cut):
            continue  # started on the new list (or cross-posted there)
        later_new = [p for p in posts[1:] if _counts_new(p, old, new, cut)]
        if not later_new:
            continue
        ref = frame.threads.get(thread_id)
        yield {
            "thread_id": thread_id,
            "subject": ref.subject if ref else "",
            "started": _iso(first.date),
            "first_on_new": _iso(later_new[0].date),
            "old_posts": sum(1 for p in posts if old in p.lists),
            "new_posts": len(later_new),
        }


def _add_subjects(conn: sqlite3.Connection, result: Audit) -> None:
    rows = [m for ms in result.messages.values() for m in ms]
    keys = sorted({m["key"] for m in rows})
    subjects: dict[str, str] = {}
    for start in range(0, len(keys), 900):
        part = keys[start : start + 900]
        marks = ",".join("?" * len(part))
        subjects.update(
            (str(k), str(s))
            for k, s in conn.execute(
                f"SELECT key, subject FROM messages WHERE key IN ({marks})", part
            )
        )
    for m in rows:
        m["subject"] = subjects.get(m["key"], "")
