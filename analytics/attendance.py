"""Who attended a meeting or carries a tag, and whether they are active on the lists.

Activity of a person: their last post and their posts in the `days` (default 365) up to the
reference day, on the lists of the meeting's community when it has one, else on every list.
The reference day is `today` when given, else the day of the newest post on those lists (today
for a live list; the archive's end for one that is closed or no longer synced, where "the last
365 days before today" would call everyone inactive).  A participant without a match shows
the suggestions of `store.name_match`, computed afresh (persons who started posting since the
import appear), the persons of the meeting's community first (one-word guesses only from it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from store import meetings, tags
from store.name_match import MATCHED, NONE, SUGGESTED, Known, load_index, match_name

DAYS = 365


def _day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def activity(
    conn: sqlite3.Connection,
    persons: Iterable[int],
    *,
    days: int = DAYS,
    today: date | None = None,
    community: str = "",
) -> dict[int, dict[str, Any]]:
    """person -> {"last_post", "recent_posts", "active"} (only persons who posted appear)."""
    ids = sorted(set(persons))
    end = today or reference_day(conn, community)
    start = end - timedelta(days=days)
    start_ts = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    found: dict[int, dict[str, Any]] = {}
    where = ""
    params: list[Any] = []
    if community:
        where = (
            " AND m.id IN (SELECT ms.message FROM memberships ms JOIN list_communities lc "
            "ON lc.list = ms.list WHERE lc.community = ?)"
        )
        params = [community]
    for offset in range(0, len(ids), 500):
        part = ids[offset : offset + 500]
        marks = ",".join("?" * len(part))
        for person, last, recent in conn.execute(
            f"SELECT i.person, MAX(m.date), SUM(m.date >= ?) FROM messages m "
            f"JOIN identities i ON i.id = m.identity WHERE i.person IN ({marks}){where} "
            f"GROUP BY i.person",
            [start_ts, *part, *params],
        ):
            found[int(person)] = {
                "last_post": _day(last),
                "recent_posts": int(recent or 0),
                "active": bool(recent),
            }
    return found


def community_persons(conn: sqlite3.Connection, community: str) -> frozenset[int] | None:
    """The persons who posted on the community's lists (suggestions rank them first), or
    None for a meeting without a community."""
    if not community:
        return None
    return frozenset(
        int(r[0])
        for r in conn.execute(
            "SELECT DISTINCT i.person FROM messages m JOIN identities i ON i.id = m.identity "
            "JOIN memberships ms ON ms.message = m.id "
            "JOIN list_communities lc ON lc.list = ms.list WHERE lc.community = ?",
            (community,),
        )
    )


def reference_day(conn: sqlite3.Connection, community: str = "") -> date:
    """The newest post's day on the community's lists (else every list), at most today."""
    if community:
        row = conn.execute(
            "SELECT MAX(m.date) FROM messages m JOIN memberships ms ON ms.message = m.id "
            "JOIN list_communities lc ON lc.list = ms.list WHERE lc.community = ?",
            (community,),
        ).fetchone()
    else:
        row = conn.execute("SELECT MAX(date) FROM messages").fetchone()
    today = datetime.now(UTC).date()
    if row is None or row[0] is None:
        return today
    return min(today, datetime.fromtimestamp(int(row[0]), UTC).date())


_QUIET = {"last_post": None, "recent_posts": 0, "active": False}


Suggest = Callable[[sqlite3.Connection, list[str], str], dict[str, list[dict[str, Any]]]]


def suggestions(
    conn: sqlite3.Connection, names: list[str], community: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """Each of `names` -> its candidates (`{"id", "key", "name", "reason"}`, best first; the
    one person of a `matched` grade as "same name"), from every person who posted, the
    `community`'s persons first.  Depends only on the messages, the persons and the
    community's lists (the web UI keeps it per state of the archive)."""
    if not names:
        return {}
    index = load_index(conn)
    preferred = community_persons(conn, community)
    found: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        graded = match_name(name, index, preferred)
        candidates = [_candidate(c.person, c.reason) for c in graded.candidates]
        if graded.status == MATCHED and graded.person is not None:
            candidates = [_candidate(graded.person, "same name")]
        found[name] = candidates
    return found


def meeting_report(
    conn: sqlite3.Connection,
    name: str,
    *,
    days: int = DAYS,
    today: date | None = None,
    suggest: Suggest = suggestions,
) -> dict[str, Any]:
    """A meeting, each participant with match, person, suggestions and activity;
    `suggest(conn, unmatched names, community)`: `suggestions` or a kept copy of it."""
    meeting = meetings.get_meeting(conn, name)
    everyone = meetings.participants(conn, meeting)
    unmatched = sorted({p.name for p in everyone if p.person is None})
    graded = suggest(conn, unmatched, meeting.community) if unmatched else {}
    rows: list[dict[str, Any]] = []
    suggested: dict[int, list[dict[str, Any]]] = {}
    for p in everyone:
        status = p.match
        if p.person is None:
            candidates = [dict(c) for c in graded[p.name]]
            suggested[p.position] = candidates
            if p.match != meetings.UNMATCHED:  # a removed match stays removed
                status = SUGGESTED if candidates else NONE
        rows.append(
            {
                "position": p.position,
                "name": p.name,
                "match": status,
                "person_key": p.person_key or None,
                "person_name": p.person_name or None,
                "suggestions": suggested.get(p.position, []),
            }
        )
    ids = {p.person for p in everyone if p.person is not None}
    ids |= {s["id"] for ss in suggested.values() for s in ss}
    as_of = today or reference_day(conn, meeting.community)
    seen = activity(conn, ids, days=days, today=as_of, community=meeting.community)
    for row, p in zip(rows, everyone, strict=True):
        row.update(seen.get(p.person, _QUIET) if p.person is not None else _QUIET)
        for s in row["suggestions"]:
            s.update(seen.get(s["id"], _QUIET))
    for row in rows:
        for s in row["suggestions"]:
            s.pop("id", None)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["match"]] = counts.get(row["match"], 0) + 1
    return {
        "name": meeting.name,
        "date": meeting.date or None,
        "community": meeting.community or None,
        "tag": meeting.tag or None,
        "source": meeting.source,
        "imported_at": meeting.imported_at,
        "days": days,
        "as_of": as_of.isoformat(),
        "summary": {
            "participants": len(rows),
            "matched": sum(1 for r in rows if r["person_key"]),
            "active": sum(1 for r in rows if r["person_key"] and r["active"]),
            "by_match": counts,
        },
        "participants": rows,
    }


def _candidate(person: Known, reason: str) -> dict[str, Any]:
    return {"id": person.id, "key": person.key, "name": person.name, "reason": reason}


def meetings_summary(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "date": m.date or None,
            "community": m.community or None,
            "tag": m.tag or None,
            "participants": sum(counts.values()),
            "matched": counts.get(MATCHED, 0) + counts.get(meetings.CONFIRMED, 0),
            "counts": counts,
        }
        for m, counts in meetings.all_meetings(conn)
    ]


def tags_report(
    conn: sqlite3.Connection, *, days: int = DAYS, today: date | None = None
) -> list[dict[str, Any]]:
    """Every tag with its persons and whether each is active on the lists."""
    found = tags.all_tags(conn)
    seen = activity(conn, (p.id for ps in found.values() for p in ps), days=days, today=today)
    return [
        {
            "tag": tag,
            "persons": [
                {"key": p.key, "name": p.name, "source": p.source, **seen.get(p.id, _QUIET)}
                for p in persons
            ],
            "active": sum(1 for p in persons if seen.get(p.id, _QUIET)["active"]),
        }
        for tag, persons in found.items()
    ]
