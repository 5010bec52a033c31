"""JSON API: search and health.

`/api/search` finds private messages for logged-in accounts only (`webui.access`); anonymous
callers get neither private messages nor private list names (in hits and facets).  The sender
facet is by person: ``[person key, count, display name]``, never an address.  A list the
caller may not see, and a person with no post it may read, answer as unknown ones do (400,
`search.reader`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from search.base import SearchResult
from search.query import HIGHLIGHT_END, HIGHLIGHT_START
from webui import access
from webui import health as health_report
from webui.obfuscate import obfuscate_address, obfuscate_text
from webui.search_pages import reader_search

bp = Blueprint("api", __name__)
access.init_blueprint(bp)
SORTS = ("relevance", "date", "date_asc")


def _facet_entry(result: SearchResult, name: str, value: str, count: int) -> list[Any]:
    if name == "sender":  # [person key, count, display name]: never an address
        return [value, count, obfuscate_text(result.person_names.get(value, value))]
    return [value, count]


def result_json(result: SearchResult, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The API's answer; `hidden`: list names left out of hits and the list facet."""
    return {
        "total": result.total,
        "next_cursor": result.next_cursor,
        "facets": {
            name: [
                _facet_entry(result, name, v, c)
                for v, c in values
                if not (name == "list" and v in hidden)
            ]
            for name, values in result.facets.items()
        },
        "hits": [
            {
                "id": hit.key,
                "message_id": obfuscate_text(hit.message_id),
                "lists": [n for n in hit.lists if n not in hidden],
                "subject": obfuscate_text(hit.subject),
                "from_name": obfuscate_text(hit.from_name),
                "from_addr": obfuscate_address(hit.from_addr),
                "date": hit.date.isoformat() if hit.date else None,
                "thread_id": hit.thread_id,
                "snippet": obfuscate_text(
                    hit.snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
                ),
            }
            for hit in result.hits
        ],
    }


@bp.get("/api/search")
def search() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()
    if not query:
        abort(400, "the q parameter is required")
    sort = request.args.get("sort", "relevance")
    if sort not in SORTS:
        abort(400, f"sort must be one of {', '.join(SORTS)}")
    try:
        limit = min(max(int(request.args.get("limit", "20")), 0), 100)
        offset = max(int(request.args.get("offset", "0")), 0)
    except ValueError:
        abort(400, "limit and offset must be integers")
    result = reader_search().search(
        query,
        lists=tuple(n for n in request.args.getlist("list") if n),
        sort=sort,  # type: ignore[arg-type]
        limit=limit,
        offset=offset,
        facets=request.args.get("facets") == "1",
        cursor=request.args.get("cursor") or None,
    )
    return jsonify(result_json(result, access.hidden_lists()))


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    """Always JSON; 503 with what is unhealthy (`webui.health`); public counts only."""
    body, status = health_report.report()
    return jsonify(body), status
