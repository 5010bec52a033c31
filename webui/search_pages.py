"""The search page (`/search`, JSON twin `/search.json`) and the syntax help (`/search/help`).

The URL carries the whole search (q, list, sort, page, group, cursor), so any result page can
be bookmarked and reproduced.  Private messages are searched for logged-in accounts only
(`webui.access`): for anonymous visitors the backend is never asked for them, and private list
names are left out of hits and facets.  The sender facet is by person (key and display name,
counts summed over the person's addresses), never by address, for everyone: its links filter
with ``person:KEY``.

For a visitor, a list it may not see and a person with no post it may read do not exist
(`search.reader`): naming either answers exactly as an unknown name does.  A search the backend
refuses (a bad query, an unknown list or person) is a 400: the HTML page shows the search form
with the query kept and the reason beside it; the JSON twin answers the error shape of
`webui.errors`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from search.base import Hit, SearchQueryError, SearchResult, Sort
from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from search.query_edit import filters as query_filters
from search.reader import ReaderSearch
from webui import access, search_view
from webui.extensions import get_search, get_store
from webui.obfuscate import obfuscate_address, obfuscate_text
from webui.search_help import HELP
from webui.views import render, wants_json

bp = Blueprint("search_pages", __name__)
access.init_blueprint(bp)

PER_PAGE = 20  # also in webui.search_help's parameters
DEEP_PAGE = 50
"""Next-page links beyond this page carry the backend's cursor (cheap deep pagination)."""
SORTS: tuple[Sort, ...] = ("relevance", "date", "date_asc")
GROUPS = ("", "thread")

_MARKERS = re.compile(f"[{HIGHLIGHT_START}{HIGHLIGHT_END}]")
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.DOTALL)


# -- helpers shared with the exports ---------------------------------------------------------


def obfuscate_snippet(snippet: str) -> str:
    """`obfuscate_text` on a snippet that carries highlight markers: the markers are taken
    out, the text obfuscated, and the markers put back where the text is unchanged (a marker
    inside a hidden address is dropped without unbalancing the others)."""
    plain = _MARKERS.sub("", snippet)
    hidden = obfuscate_text(plain)
    if hidden == plain:
        return snippet
    markers: dict[int, list[str]] = {}
    position = 0
    for char in snippet:
        if char in (HIGHLIGHT_START, HIGHLIGHT_END):
            markers.setdefault(position, []).append(char)
        else:
            position += 1
    old = _TOKEN.findall(plain)
    starts = [0]
    for token in old:
        starts.append(starts[-1] + len(token))
    new = _TOKEN.findall(hidden)
    out: list[str] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(starts[i1], starts[i2]):
                out.extend(markers.get(k, ()))
                out.append(plain[k])
            continue
        dropped = [m for k in range(starts[i1], starts[i2]) for m in markers.get(k, ())]
        out.append(HIGHLIGHT_END if dropped and dropped[0] == HIGHLIGHT_END else "")
        out.append("".join(new[j1:j2]))
        out.append(HIGHLIGHT_START if dropped and dropped[-1] == HIGHLIGHT_START else "")
    out.extend(markers.get(len(plain), ()))
    return "".join(out)


def snippet_html(snippet: str) -> Markup:
    """Escape the snippet first, then turn the highlight markers into <mark> elements."""
    out: list[str] = []
    open_mark = False
    for part in re.split(f"([{HIGHLIGHT_START}{HIGHLIGHT_END}])", obfuscate_snippet(snippet)):
        if part == HIGHLIGHT_START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == HIGHLIGHT_END:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(str(escape(part)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


@bp.app_template_filter("inline_code")
def inline_code(text: str) -> Markup:
    """Escaped text with its `backquoted` parts as <code> (the help's markdown-ish notes)."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def plain_snippet(snippet: str) -> str:
    return obfuscate_text(_MARKERS.sub("", snippet))


def query_text() -> str:
    return request.args.get("q", "").strip()


# -- the search --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str = ""
    lists: tuple[str, ...] = ()
    sort: Sort = "relevance"
    page: int = 1
    group: str = ""
    cursor: str | None = None

    @classmethod
    def from_request(cls) -> SearchParams:
        sort = request.args.get("sort") or "relevance"
        if sort not in SORTS:
            abort(400, f"sort must be one of {', '.join(SORTS)}")
        group = request.args.get("group", "")
        if group not in GROUPS:
            abort(400, "group must be 'thread' or empty")
        try:
            page = int(request.args.get("page") or "1")
        except ValueError:
            abort(400, "page must be a positive integer")
        if page < 1:
            abort(400, "page must be a positive integer")
        return cls(
            q=query_text(),
            lists=tuple(v for v in request.args.getlist("list") if v),
            sort=sort,
            page=page,
            group=group,
            cursor=request.args.get("cursor") or None,
        )

    def args(self) -> dict[str, Any]:
        """URL parameters reproducing this search (defaults left out)."""
        out: dict[str, Any] = {"q": self.q}
        if self.lists:
            out["list"] = list(self.lists)
        if self.sort != "relevance":
            out["sort"] = self.sort
        if self.group:
            out["group"] = self.group
        if self.page != 1:
            out["page"] = self.page
        if self.cursor:
            out["cursor"] = self.cursor
        return out

    def url(self, **changes: Any) -> str:
        """The search page's URL for this search, with `changes` applied."""
        query = urlencode(replace(self, **changes).args(), doseq=True)
        return f"{request.script_root}/search?{query}"


def facet_tokens(facet: str, value: str) -> str:
    """The filter a facet value adds; a sender is a person key (never an address)."""
    if facet == "list":
        return f"list:{value}"
    if facet == "year":
        return f"after:{value}-01-01 before:{int(value) + 1}-01-01"
    return f"person:{value}"


def facet_query(query: str, facet: str, value: str) -> tuple[str, bool]:
    """The query with this facet's filter added (or removed when already there); and whether
    it was there."""
    tokens = facet_tokens(facet, value)
    padded = f" {query} "
    if f" {tokens} " in padded:
        return " ".join(padded.replace(f" {tokens} ", " ", 1).split()), True
    return f"{query} {tokens}".strip(), False


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.key,
        "message_id": obfuscate_text(hit.message_id),
        "lists": access.shown_lists(hit.lists),
        "subject": obfuscate_text(hit.subject),
        "from_name": obfuscate_text(hit.from_name),
        "from_addr": obfuscate_address(hit.from_addr),
        "date": hit.date.isoformat() if hit.date else None,
        "thread_id": hit.thread_id,
        "snippet": plain_snippet(hit.snippet),
        "snippet_html": str(snippet_html(hit.snippet)),
        "url": message_path(hit.key),
        "thread_url": thread_path(hit.thread_id),
    }


def group_by_thread(hits: list[Hit]) -> list[tuple[str, list[Hit]]]:
    """Hits of one thread together, threads in the order of their best hit."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.thread_id, []).append(hit)
    return list(groups.items())


def search_data(
    params: SearchParams, result: SearchResult | None, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """The page's data (and its JSON twin); `names`: display names of the ``person:`` keys of
    the query (for its filter chips)."""
    total = result.total if result else 0
    hits = result.hits if result else []
    data: dict[str, Any] = {
        "query": params.q,
        "lists": list(params.lists),
        "sort": params.sort,
        "group": params.group or None,
        "page": params.page,
        "per_page": PER_PAGE,
        "pages": math.ceil(total / PER_PAGE),
        "total": total,
        "hits": [hit_json(hit) for hit in hits],
        "facets": {},
        "groups": None,
        "next": None,
        "prev": None,
        "next_cursor": result.next_cursor if result else None,
        "exports": None,
        "filters": search_view.active_filters(params.q, params.lists, names or {}, params.url),
        "histogram": None,
        "understood": search_view.understood(params.q),
    }
    if result is None:
        return data
    data["histogram"] = search_view.histogram(result.facets.get("month", []), params.q, params.url)
    for name, values in result.facets.items():
        if name == "month":  # the histogram
            continue
        data["facets"][name] = []
        for value, count in values:
            if name == "list" and value in access.hidden_lists():
                continue
            new_query, active = facet_query(params.q, name, value)
            entry: dict[str, Any] = {
                "value": value,
                "count": count,
                "active": active,
                "query": new_query,
                "url": params.url(q=new_query, page=1, cursor=None),
            }
            if name == "sender":  # a person: shown by name, filtered by key
                entry["key"] = value
                shown = obfuscate_text(result.person_names.get(value, value))
                entry["value"] = shown or search_view.NO_NAME
            data["facets"][name].append(entry)
    if params.group == "thread":
        data["groups"] = [
            {
                "thread_id": tid,
                "subject": obfuscate_text(group[0].subject),
                "url": thread_path(tid),
                "hits": [h.key for h in group],
            }
            for tid, group in group_by_thread(hits)
        ]
    if result.next_cursor and hits:
        following = params.page + 1
        cursor = result.next_cursor if following > DEEP_PAGE else None
        data["next"] = params.url(page=following, cursor=cursor)
    if params.page > 1:
        data["prev"] = params.url(page=params.page - 1, cursor=None)
    export: dict[str, Any] = {"q": params.q, "list": list(params.lists), "sort": params.sort}
    data["exports"] = {
        "mbox": url_for("exports.search_mbox", **export),
        "csv": url_for("exports.search_csv", **export),
    }
    return data


def run_search(params: SearchParams) -> SearchResult | None:
    if not params.q and not params.lists:
        return None
    query = params.q or " ".join(f"list:{name}" for name in params.lists)
    return reader_search().search(  # raises SearchQueryError: a 400 with the reason
        query,
        lists=params.lists,
        sort=params.sort,
        limit=PER_PAGE,
        offset=(params.page - 1) * PER_PAGE,
        facets=True,
        cursor=params.cursor,
    )


def reader_search() -> ReaderSearch:
    """The search backend as this request's reader may use it (`search.reader`)."""
    return ReaderSearch(get_search(), get_store().conn, access.viewer())


@bp.get("/search")
@bp.get("/search.json")
def search() -> ResponseReturnValue:
    params = SearchParams.from_request()
    try:
        result = run_search(params)
    except SearchQueryError as exc:
        if wants_json():
            raise  # the JSON twin: the error shape of webui.errors
        data = search_data(params, None)
        data["error"] = str(exc)
        return render("search.html", data, 400)
    return render("search.html", search_data(params, result, filter_names(params, result)))


def filter_names(params: SearchParams, result: SearchResult | None) -> dict[str, str]:
    """Display names of the query's ``person:`` keys: the sender facet's, else the store's."""
    keys = {span.value.lower() for span in query_filters(params.q) if span.field == "person"}
    names = {key: name for key, name in (result.person_names if result else {}).items()}
    missing = keys - names.keys()
    if missing and result is not None:
        names.update(reader_search().person_names(sorted(missing)))
    return names


@bp.get("/search/help")
@bp.get("/search/help.json")
def help_page() -> ResponseReturnValue:
    return render("search_help.html", HELP)


# Paths of pages served by the other blueprints, spelled out (see docs/webui-contract.md) so
# this module does not depend on their endpoint names.


def message_path(key: str) -> str:
    return f"{request.script_root}/messages/{key}"


def thread_path(thread_id: str) -> str:
    return f"{request.script_root}/threads/{thread_id}"
