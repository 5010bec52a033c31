"""The data of /persons/suggestions (`webui.person_pages`): merge suggestions
(`store.merges.suggestions`) with each person's addresses in full, posts and first and last
post day, and the pairs not yet recorded as different people.  Computed once per state of
the archive and kept in the store (`webui.stats_figures.kept`)."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import render_template, url_for
from markupsafe import Markup, escape

from store import merges
from store.visibility import not_removed
from webui.sessions import csrf_token

KEPT_LISTINGS = 4
_TOKEN = secrets.token_hex(16)  # stands for the reader's CSRF token in a kept listing
_MARK = secrets.token_hex(16)  # stands for the listing in the rendered page
_LISTINGS: OrderedDict[str, list[str]] = OrderedDict()
Fill = Callable[[str], str]
_LOCK = threading.Lock()


def listing(key: str | None, suggestions: list[dict[str, Any]]) -> tuple[Markup, Fill]:
    """The page's list of suggestions (`_merge_suggestions.html`): a mark for the page's
    template and the `views.render` fill that puts the list's HTML in its place.  With a
    `key` (the kept figures' key and the archive's state) the list is rendered once per
    process and key: at 1M messages it is 18 MB of HTML, 0.8 s of CPU to render, the same for
    every reader but for the CSRF token of its forms, put in on each request (one join of
    the page's parts, not copies through the template)."""
    parts = None
    if key is not None:
        with _LOCK:
            parts = _LISTINGS.get(key)
            if parts is not None:
                _LISTINGS.move_to_end(key)
    if parts is None:
        html = render_template(
            "_merge_suggestions.html",
            suggestions=suggestions,
            token=_TOKEN,
            merge_url=url_for("persons.merge"),
            distinct_url=url_for("persons.distinct"),
        )
        parts = html.split(_TOKEN)
        if key is not None:
            with _LOCK:
                _LISTINGS[key] = parts
                while len(_LISTINGS) > KEPT_LISTINGS:
                    _LISTINGS.popitem(last=False)
    token = str(escape(csrf_token()))
    found = parts

    def fill(page: str) -> str:
        before, after = page.split(_MARK, 1)
        return "".join([before, token.join(found), after])

    return Markup(_MARK), fill


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
