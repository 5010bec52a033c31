"""`/api/openapi.json`: the OpenAPI 3.1 description of the JSON API, written by hand.

Every JSON route of the app (a rule ending in `.json` or starting with `/api/`, and `/healthz`)
must be described here: tests/webui/test_openapi.py walks the app's url_map and fails on a route
without documentation.  Pages answer with their JSON twin also under `Accept: application/json`.
The component schemas the paths refer to are in `webui.openapi_schemas`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from webui.openapi_schemas import OBJECT, SCHEMAS, ref

bp = Blueprint("openapi", __name__)


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "404": {"$ref": "#/components/responses/NotFound"},
}


def _get(
    summary: str,
    schema: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = ("404",),
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": _json(summary, schema), **{c: _ERRORS[c] for c in errors}},
    }
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


_SEARCH_PARAMS = [
    _query("q", "the query (syntax: /search/help.json)"),
    _query("list", "restrict to a list (repeatable)"),
    _query("sort", "result order", {"type": "string", "enum": ["relevance", "date", "date_asc"]}),
]

PATHS: dict[str, Any] = {
    "/api/search": _get(
        "search messages",
        ref("ApiSearchResult"),
        [
            *_SEARCH_PARAMS,
            _query("limit", "page size (0-100, default 20)", {"type": "integer"}),
            _query("offset", "results to skip", {"type": "integer"}),
            _query("cursor", "next_cursor of the previous page"),
            _query("facets", "1 to compute facets", {"type": "string", "enum": ["0", "1"]}),
        ],
        ("400",),
    ),
    "/healthz": _get("health: message and index counts", ref("Health"), errors=()),
    "/api/openapi.json": _get("this description", OBJECT, errors=()),
    "/search.json": _get(
        "the search page's data",
        ref("SearchPage"),
        [
            *_SEARCH_PARAMS,
            _query("page", "page number (20 a page)", {"type": "integer", "minimum": 1}),
            _query("group", "thread: group the page's hits by thread", {"enum": ["thread"]}),
            _query("cursor", "opaque cursor of a deep page"),
        ],
        ("400",),
    ),
    "/search/help.json": _get("the query syntax", ref("SearchHelp"), errors=()),
    "/index.json": _get("communities and lists, recent threads", ref("Page"), errors=()),
    "/lists/{name}.json": _get(
        "a list and its periods", ref("Page"), [_path_param("name", "list name")]
    ),
    "/lists/{name}/{period}.json": _get(
        "the messages of a list's period",
        ref("Page"),
        [_path_param("name", "list name"), _path_param("period", "period (volume) name")],
    ),
    "/threads/{thread_id}.json": _get(
        "a thread and its messages", ref("ThreadPage"), [_path_param("thread_id", "thread id")]
    ),
    "/messages/{key}.json": _get(
        "a message", ref("MessagePage"), [_path_param("key", "message key (permalink)")]
    ),
    # -- persons (facilitator role; 401 without a session) --
    "/audit.json": _get(
        "communities that can be audited, with old/new lists and dates (secretariat)",
        ref("Page"),
        errors=(),
    ),
    "/persons.json": _get(
        "persons who posted, busiest first (personal data)",
        ref("Page"),
        [
            _query("q", "match names, addresses or keys"),
            _query("page", "page number (100 a page)", {"type": "integer", "minimum": 1}),
        ],
        ("400",),
    ),
    "/persons/{key}.json": _get(
        "one person: identities, names, tags, lists (merged keys redirect)",
        ref("Page"),
        [_path_param("key", "person key")],
    ),
    "/persons/suggestions.json": _get(
        "suggested merges: one full name from different addresses, busiest first, a page "
        "at a time (page, per_page, pages, total of at most limit, prev and next URLs)",
        ref("Page"),
        [
            _query(
                "page",
                "page number (web.suggestions_page_size a page; past the end: empty)",
                {"type": "integer", "minimum": 1},
            )
        ],
        ("400",),
    ),
    "/persons/events.json": _get("the record of merges, splits and undos", ref("Page"), errors=()),
    "/persons/bots.json": _get(
        "persons marked as bots or not (who, when, why) and suggested bots with score and reasons",
        ref("Page"),
        errors=(),
    ),
}

# -- statistics (docs/analytics.md); the same parameters on every dashboard --
_STATS_PARAMS = [
    _query("list", "a list to count (repeatable; none: every list you may see)"),
    _query("community", "count a community's lists"),
    _query("start", "first day, YYYY-MM-DD (UTC)", {"type": "string", "format": "date"}),
    _query("end", "last day, inclusive, YYYY-MM-DD (UTC)", {"type": "string", "format": "date"}),
    _query("period", "per month, quarter or year", {"enum": ["month", "quarter", "year"]}),
    _query("limit", "rows of each ranking (1-1000)", {"type": "integer", "minimum": 1}),
    _query(
        "bots",
        "exclude (default) or include the posts of persons marked as bots",
        {"enum": ["exclude", "include"]},
    ),
]
_LAPSE = _query("lapse_days", "days without a post before someone counts as lapsed (180)")
PATHS.update(
    {
        "/stats.json": _get(
            "engagement of the scope: activity, cohorts, responses, weekdays, hours, top "
            "threads (aggregate numbers, public lists only without a session)",
            ref("Page"),
            [*_STATS_PARAMS, _LAPSE],
            ("400", "404"),
        ),
        "/stats/people.json": _get(
            "top posters and newcomers (facilitator role; 401 without a session)",
            ref("Page"),
            _STATS_PARAMS,
            ("400", "404"),
        ),
        "/stats/responses.json": _get(
            "reply share, time to first reply, unanswered threads (facilitator role)",
            ref("Page"),
            _STATS_PARAMS,
            ("400", "404"),
        ),
        "/stats/network.json": _get(
            "who answers whom: connectors, pairs, edges (facilitator role)",
            ref("Page"),
            _STATS_PARAMS,
            ("400", "404"),
        ),
        "/stats/cohorts.json": _get(
            "retention of first-post cohorts, newcomers/returning/lapsed (facilitator role)",
            ref("Page"),
            [
                *_STATS_PARAMS,
                _LAPSE,
                _query("horizon", "periods to follow each cohort (12)", {"type": "integer"}),
            ],
            ("400", "404"),
        ),
    }
)

# -- migration audit and rosters (secretariat), meetings and tags (facilitator); personal data,
# 401 without a session, 403 for a role that may not see them (docs/migration-audit.md) --
_SINCE = _query("since", "first day, YYYY-MM-DD (UTC)", {"type": "string", "format": "date"})
_DAYS = _query("days", "active means a post in this many days (365)", {"type": "integer"})
PATHS.update(
    {
        "/audit/{community}.json": _get(
            "migration audit of a community: summary, persons by status, messages to the old "
            "list after the cutover/close, cross-posted messages, continued threads "
            "(secretariat role)",
            ref("Page"),
            [
                _path_param("community", "community name"),
                _query("window", "days before the cutover (365)", {"type": "integer"}),
                _SINCE,
                _query(
                    "status",
                    "only persons with this status",
                    {
                        "enum": ["moved", "old_only", "not_yet_seen", "new_face", "returning"],
                    },
                ),
            ],
            ("400", "404"),
        ),
        "/rosters.json": _get(
            "imported roster snapshots and the communities with both rosters (secretariat)",
            ref("Page"),
            errors=(),
        ),
        "/rosters/{name}.json": _get(
            "a list's roster report: members who never posted, posters who are not members "
            "(secretariat)",
            ref("Page"),
            [_path_param("name", "list name"), _SINCE],
            ("400", "404"),
        ),
        "/rosters/community/{name}.json": _get(
            "a community's roster report: old members who have not joined the new list, and "
            "both lists' reports (secretariat)",
            ref("Page"),
            [_path_param("name", "community name"), _SINCE],
            ("400", "404"),
        ),
        "/meetings.json": _get(
            "imported meetings, and every tag with its persons and their activity "
            "(facilitator role)",
            ref("Page"),
            [_DAYS],
            ("400",),
        ),
        "/meetings/{name}.json": _get(
            "a meeting's participants: match, person, suggestions, activity (facilitator)",
            ref("Page"),
            [_path_param("name", "meeting name"), _DAYS],
            ("400", "404"),
        ),
    }
)

# -- removals (secretariat; docs/webui-contract.md): the POST actions answer JSON too --
PATHS["/removals.json"] = _get(
    "removals, newest first: kind, target, reason, actor, dates, purged, message keys and "
    "subjects, undo URL (secretariat)",
    ref("Page"),
    errors=(),
)

# -- runs and quarantine (secretariat; webui/ops_pages.py, docs/webui-contract.md) --
_PAGING = [
    _query("page", "page number, from 1", {"type": "integer", "minimum": 1}),
    _query("per_page", "rows per page (web.ops_page_size; up to 500)", {"type": "integer"}),
]
_RUN_STATUS = {"enum": ["running", "ok", "partial", "interrupted", "error", "failed", "abandoned"]}
PATHS.update(
    {
        "/runs.json": _get(
            "sync runs newest first (the `runs` and `lists` of `listarchive runs --json`), the "
            "failing lists, paging (secretariat)",
            ref("Page"),
            [_query("list", "one list's runs"), _query("status", "runs of one status", _RUN_STATUS)]
            + _PAGING,
            ("400", "404"),
        ),
        "/runs/{run_id}.json": _get(
            "one run: its whole summary, failed volumes, warnings (secretariat)",
            ref("Page"),
            [_path_param("run_id", "run id")],
        ),
        "/quarantine.json": _get(
            "quarantined messages: reason, list, origin volume, position, size, date (secretariat)",
            ref("Page"),
            [_query("list", "one list's quarantine"), *_PAGING],
            ("400", "404"),
        ),
        "/quarantine/{item_id}.json": _get(
            "one quarantined message: its first web.quarantine_view_bytes as text (undecodable "
            "bytes replaced), and the URL of the raw bytes (secretariat)",
            ref("Page"),
            [_path_param("item_id", "quarantine item id")],
        ),
    }
)

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "listarchive",
        "version": "1",
        "description": "JSON API of the mailing-list archive. Every page also answers with its "
        "JSON twin under `Accept: application/json`. Errors are "
        '`{"error": {"status", "message"}}`. The messages of private lists are returned '
        "only to logged-in accounts; the routes under `/persons`, `/stats/*` (except "
        "`/stats`), `/audit`, `/rosters`, `/meetings`, `/runs` and `/quarantine` need a login (401 "
        "without one).",
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {
            "BadRequest": _json("bad query or parameter, with the reason", ref("Error")),
            "NotFound": _json("unknown list, period, thread or message", ref("Error")),
        },
    },
}


@bp.get("/api/openapi.json")
def spec() -> ResponseReturnValue:
    return jsonify(SPEC)
