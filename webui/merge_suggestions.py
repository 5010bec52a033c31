"""The data of /persons/suggestions (`webui.person_pages`): merge suggestions
(`store.merges.suggestions`) with each person's addresses in full, posts and first and last
post day, and the pairs not yet recorded as different people.  Computed once per state of
the archive and kept in the store (`webui.stats_figures.kept`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import url_for

from store import merges
from store.visibility import not_removed


def day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def suggestion_anchor(name: str) -> str:
    """The id of a merge suggestion on /persons/suggestions (linked from /stats/people)."""
    return "s-" + "-".join(name.casefold().split())


def data(conn: Any) -> dict[str, Any]:
    """The page's suggestions (JSON-ready) and its CSV rows (`rows`)."""
    found = merges.suggestions(conn)
    names = dict(conn.execute("SELECT key, name FROM persons"))
    keys = {k for s in found for k in s.persons}
    detail = identity_detail(conn, keys)
    distinct = {
        (str(a), str(b))
        for a, b in conn.execute(
            "SELECT pa.key, pb.key FROM person_distinct d "
            "JOIN persons pa ON pa.id = d.a JOIN persons pb ON pb.id = d.b"
        )
    }
    data = {
        "suggestions": [
            {
                "name": s.name,
                "anchor": suggestion_anchor(s.name),
                "persons": [
                    {
                        "key": k,
                        "name": names.get(k, ""),
                        "messages": n,  # posts signed with the suggestion's name
                        **detail.get(k, _NO_DETAIL),
                        "url": url_for("persons.person", key=k),
                    }
                    for k, n in zip(s.persons, s.messages, strict=True)
                ],
                "pairs": [
                    [a, b]
                    for i, a in enumerate(s.persons)
                    for b in s.persons[i + 1 :]
                    if (a, b) not in distinct and (b, a) not in distinct
                ],
            }
            for s in found
        ]
    }
    rows = [
        [s.name, k, names.get(k, ""), n]
        for s in found
        for k, n in zip(s.persons, s.messages, strict=True)
    ]
    return {**data, "rows": rows}


_NO_DETAIL: dict[str, Any] = {"total": 0, "first": None, "last": None, "identities": []}


def identity_detail(conn: Any, keys: set[str]) -> dict[str, dict[str, Any]]:
    """Per person key: its total of posts, first and last post day, and each identity (kind,
    value in full, posts, first, last), busiest first; removed messages are not counted."""
    found: dict[str, dict[str, Any]] = {}
    if not keys:
        return found
    marks = ",".join("?" * len(keys))
    query = (
        "SELECT p.key, i.kind, i.value, COUNT(m.id), MIN(m.date), MAX(m.date) "
        "FROM persons p JOIN identities i ON i.person = p.id "
        f"LEFT JOIN messages m ON m.identity = i.id AND {not_removed('m')} "
        f"WHERE p.key IN ({marks}) AND i.kind != 'unknown' "
        "GROUP BY p.key, i.id ORDER BY COUNT(m.id) DESC, i.value"
    )
    for key, kind, value, posts, first, last in conn.execute(query, sorted(keys)):
        person = found.setdefault(str(key), {**_NO_DETAIL, "identities": []})
        person["identities"].append(
            {"kind": kind, "value": value, "posts": posts, "first": day(first), "last": day(last)}
        )
        person["total"] += int(posts)
        if first is not None and (person["first"] is None or day(first) < person["first"]):
            person["first"] = day(first)
        if last is not None and (person["last"] is None or day(last) > person["last"]):
            person["last"] = day(last)
    return found
