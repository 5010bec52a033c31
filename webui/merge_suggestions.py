"""The data of /persons/suggestions (`webui.person_pages`): merge suggestions
(`store.merges.suggestions`, the `stats_figures.SUGGESTIONS_SHOWN` busiest names) with each
person's addresses in full, posts and first and last post day, and the pairs not yet recorded
as different people.  Computed once per state of the archive and kept in the store
(`webui.stats_figures.kept`), then shown `web.suggestions_page_size` a page (`page`): the
first `KEPT_PAGES` pages are kept too, so a visit reads its page back, not the whole list (and the
CSV export its rows)."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import render_template, request, url_for
from markupsafe import Markup, escape

from store import merges, removal_marks
from store.visibility import not_removed
from webui import stats_figures
from webui.extensions import settings
from webui.sessions import csrf_token
from webui.stats_figures import kept, key_of

KEPT_LISTINGS = 4
KEPT_PAGES = 10
"""Pages of suggestions kept in the store each (every page at 100 a page of the 1,000 shown:
`stats_figures.SUGGESTIONS_SHOWN`); a later page is cut from the kept whole list, so however
small the page size, a crawl of every page adds no more than this many entries (each would
push a dashboard's figures toward the store's `MAX_ENTRIES`)."""
PAIR_BUTTONS = 4
"""A suggestion of up to this many persons has a "Different people" form for each pair not
yet marked (6 at most); a larger one has one form choosing the two persons: n persons have
n(n-1)/2 pairs, and at 1M messages (groups of 8 to 88 persons) the pairs' forms were ~91 %
of the first page's 13.8 MB (1.27 MB with this)."""
_TOKEN = secrets.token_hex(16)  # stands for the reader's CSRF token in a kept listing
_MARK = secrets.token_hex(16)  # stands for the listing in the rendered page
_LISTINGS: OrderedDict[str, list[bytes]] = OrderedDict()
Fill = Callable[[str], bytes]
_LOCK = threading.Lock()


def listing(
    key: str | None, suggestions: Callable[[], list[dict[str, Any]]], number: int = 1
) -> tuple[Markup, Fill]:
    """The page's list of suggestions (`_merge_suggestions.html`): a mark for the page's
    template and the `views.render` fill that puts the list's HTML in its place.  With a
    `key` (the kept page's key and the archive's state) the list is rendered once per
    process and key (`suggestions()` is asked only then): at 1M messages it was 18 MB of
    HTML, 0.8 s of CPU to render, the same for every reader but for the CSRF token of its
    forms, put in on each request.  The list is kept as UTF-8 parts between the tokens, so a
    request joins bytes (no copy through the template, no encoding of the whole page)."""
    parts = None
    if key is not None:
        with _LOCK:
            parts = _LISTINGS.get(key)
            if parts is not None:
                _LISTINGS.move_to_end(key)
    if parts is None:
        html = render_template(
            "_merge_suggestions.html",
            suggestions=suggestions(),
            token=_TOKEN,
            merge_url=url_for("persons.merge"),
            distinct_url=url_for("persons.distinct"),
            page=number,
            pair_buttons=PAIR_BUTTONS,
        )
        parts = html.encode().split(_TOKEN.encode())
        if key is not None:
            with _LOCK:
                _LISTINGS[key] = parts
                while len(_LISTINGS) > KEPT_LISTINGS:
                    _LISTINGS.popitem(last=False)
    token = str(escape(csrf_token())).encode()
    found = parts

    def fill(page: str) -> bytes:
        before, after = page.split(_MARK, 1)
        return b"".join([before.encode(), token.join(found), after.encode()])

    return Markup(_MARK), fill


def day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def suggestion_anchor(name: str) -> str:
    """The id of a merge suggestion on /persons/suggestions (linked from /stats/people)."""
    return "s-" + "-".join(name.casefold().split())


def page_size() -> int:
    return int(settings()["web.suggestions_page_size"])


def suggestion_url(name: str, rank: int) -> str:
    """The link to one suggestion (`rank`: its place from 0, busiest first): its anchor on the
    page showing it (no `?page=` on the first, as before pages)."""
    number = rank // page_size() + 1
    url = (
        url_for("persons.suggestions", page=number)
        if number > 1
        else url_for("persons.suggestions")
    )
    return f"{url}#{suggestion_anchor(name)}"


def csv_rows(suggestions: list[dict[str, Any]]) -> list[list[Any]]:
    """The CSV twin's rows: one per suggested person (suggestion, key, name, signed posts)."""
    return [
        [s["name"], p["key"], p["name"], p["messages"]] for s in suggestions for p in s["persons"]
    ]


def whole(conn: Any, distinct_ids: list[Any]) -> dict[str, Any]:
    """Every suggestion shown (`data`), kept in the store like the statistics
    (`webui.stats_figures`): every sender name grouped, each person's identities counted."""
    return kept(key_of("merge-suggestions", distinct_ids), lambda: data(conn))


def all_rows(conn: Any, distinct_ids: list[Any]) -> list[list[Any]]:
    """The CSV export's rows for every suggestion shown, kept apart from the whole list (at
    1M messages the rows are a tenth of its JSON: the export reads only them)."""

    def compute() -> dict[str, Any]:
        return {"rows": csv_rows(whole(conn, distinct_ids)["suggestions"])}

    rows: list[list[Any]] = kept(key_of("merge-suggestions-rows", distinct_ids), compute)["rows"]
    return rows


@dataclass(frozen=True)
class Page:
    """A page of suggestions: the `total` shown over all pages, the `key` of what this page
    shows (with the archive's state, the rendered list's key) and its `items()` (read from the
    store when asked: a page whose list is rendered already needs only the total)."""

    total: int
    key: str
    items: Callable[[], list[dict[str, Any]]]


def page(conn: Any, distinct_ids: list[Any], number: int) -> Page:
    """Page `number` (from 1) of the suggestions.  The count is kept apart from the whole
    list (a tiny entry: a page past the end reads nothing else and keeps nothing); the first
    `KEPT_PAGES` pages are kept each, a later one is cut from the whole list."""
    size = page_size()
    key = key_of("merge-suggestions-page", distinct_ids, size, number)
    read: list[dict[str, Any]] = []  # the whole list, once a request (not kept: a sync writes)

    def every() -> list[dict[str, Any]]:
        if not read:
            read.append(whole(conn, distinct_ids))
        found: list[dict[str, Any]] = read[0]["suggestions"]
        return found

    def count() -> dict[str, Any]:
        return {"total": len(every())}

    def cut() -> dict[str, Any]:
        start = (number - 1) * size
        return {"suggestions": every()[start : start + size]}

    total = int(kept(key_of("merge-suggestions-count", distinct_ids), count)["total"])

    def items() -> list[dict[str, Any]]:
        if number > 1 and (number - 1) * size >= total:
            return []
        shown: list[dict[str, Any]] = (cut() if number > KEPT_PAGES else kept(key, cut))[
            "suggestions"
        ]
        return shown

    return Page(total, key, items)


def paging(number: int, total: int) -> dict[str, Any]:
    """The page's place for its twin: `page`, `per_page`, `pages`, `total` (at most `limit`,
    the busiest names shown) and the `prev` and `next` pages' URLs in the same form (page or
    JSON; None where there is none).  Past the end `prev` is the last page (the first when
    there is none)."""
    size = page_size()
    pages = -(-total // size)
    endpoint = request.endpoint or "persons.suggestions"

    def link(n: int) -> str:
        return url_for(endpoint, page=n)

    return {
        "page": number,
        "per_page": size,
        "pages": pages,
        "total": total,
        "limit": stats_figures.SUGGESTIONS_SHOWN,
        "prev": link(min(number - 1, max(pages, 1))) if number > 1 else None,
        "next": link(number + 1) if number < pages else None,
    }


def data(conn: Any) -> dict[str, Any]:
    """Every suggestion shown (JSON-ready), busiest first."""
    found = merges.suggestions(conn, limit=stats_figures.SUGGESTIONS_SHOWN)
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
    return data


_NO_DETAIL: dict[str, Any] = {"total": 0, "first": None, "last": None, "identities": []}


def identity_detail(conn: Any, keys: set[str]) -> dict[str, dict[str, Any]]:
    """Per person key: its total of posts, first and last post day, and each identity (kind,
    value in full, posts, first, last), busiest first; removed messages are not counted."""
    found: dict[str, dict[str, Any]] = {}
    if not keys:
        return found
    marks = ",".join("?" * len(keys))
    # with nothing removed the test is true of every message: left out, the counts and dates
    # come from the index by identity alone (reading each message's key for it: 4.2-4.9 s
    # at 1M for the 10,784 persons of the suggestions, 0.28-0.30 s without)
    kept_only = not_removed("m") if removal_marks.any_active(conn) else "1"
    query = (
        "SELECT p.key, i.kind, i.value, COUNT(m.id), MIN(m.date), MAX(m.date) "
        "FROM persons p JOIN identities i ON i.person = p.id "
        f"LEFT JOIN messages m ON m.identity = i.id AND {kept_only} "
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
