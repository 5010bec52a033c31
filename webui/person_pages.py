"""Persons (personal data: facilitator role): the directory, one person's page, merge
suggestions, bots (marked and suggested) and the record of merges with undo.

Writes (merge, split, different people, bot / not a bot, undo) are POST forms carrying the
CSRF token; they are recorded with the logged-in username as the actor and answer a redirect
(HTML) or the event (JSON clients sending `Accept: application/json`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from analytics import bots as bot_scores
from analytics.facts import PersonTotal
from analytics.person import ListActivity, PersonPeriod, StartedThread, person_activity
from store import bots, figure_cache, identities, merges, removals
from store.identities import IdentityRef
from webui import merge_suggestions, stats_figures, stats_params
from webui.auth import current_user, require_role
from webui.extensions import get_store, get_writable_store
from webui.stats_figures import bot_suggestions
from webui.views import CsvTable, digits, render, wants_csv, wants_json

bp = Blueprint("persons", __name__)

PAGE = 100
FILE = "merge-suggestions.csv"


def _day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def _page_number() -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        abort(400, "page must be a number")
    if page < 1:
        abort(400, "page must be 1 or more")
    return page


@bp.get("/persons")
@bp.get("/persons.json", endpoint="directory_json")
@bp.get("/persons.csv", endpoint="directory_csv")
@require_role("facilitator")
def directory() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    page = _page_number()
    limit = 100_000 if request.path.endswith(".csv") else PAGE
    total, rows = stats_figures.person_page(q, limit, (page - 1) * PAGE)
    persons = [
        {
            "key": r.key,
            "name": r.name,
            "messages": r.messages,
            "first": _day(r.first),
            "last": _day(r.last),
            "addresses": list(r.addresses),
            "url": url_for("persons.person", key=r.key),
        }
        for r in rows
    ]
    data = {"q": q, "page": page, "per_page": PAGE, "total": total, "persons": persons}
    table = CsvTable(
        "persons.csv",
        ["key", "name", "messages", "first", "last", "addresses"],
        [
            [r.key, r.name, r.messages, _day(r.first), _day(r.last), " ".join(r.addresses)]
            for r in rows
        ],
    )
    g.full_addresses = True  # each person's addresses in full (staff): base.html's footer says so
    return render("persons.html", data, table=table)


def _live_or_404(key: str) -> int:
    conn = get_store().conn
    person = identities.resolve(conn, key)
    if person is None or removals.person_only_removed(conn, person):
        abort(404, f"No person {key}.")
    return person


def _with_args(url: str, extra: dict[str, str] | None = None) -> str:
    """`url` with this request's query (minus `table`) and `extra`."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "table"]
    query = urlencode(args + list((extra or {}).items()))
    return f"{url}?{query}" if query else url


PERSON_TABLES = ("periods", "started", "lists", "replied_to", "replied_by")
_PERSON_ROWS: dict[str, type[Any]] = {
    "periods": PersonPeriod,
    "started": StartedThread,
    "lists": ListActivity,
    "replied_to": PersonTotal,
    "replied_by": PersonTotal,
}


@bp.get("/persons/<key>")
@bp.get("/persons/<key>.json", endpoint="person_json")
@bp.get("/persons/<key>.csv", endpoint="person_csv")
@require_role("facilitator")
def person(key: str) -> ResponseReturnValue:
    """One person: identities, tags, and their activity in the chosen scope (list, community,
    start, end, period: the statistics pages' parameters); `.csv` exports one of its tables."""
    conn = get_store().conn
    found = identities.get_person(conn, _live_or_404(key))
    if found is None:
        abort(404, f"No person {key}.")
    if found.key != key:  # merged: the surviving person's page
        endpoint = request.endpoint or "persons.person"
        return redirect(_with_args(url_for(endpoint, key=found.key)), 301)
    chosen = stats_params.params(PERSON_TABLES)
    bot_state = bots.state_of(conn, found.id)
    if bot_state == bots.BOT:  # a bot's own page counts its posts unless told otherwise
        chosen = replace(chosen, include_bots=stats_params.include_bots(default=True))
    scope = stats_params.scope_of(chosen)
    frame = stats_params.frame_of(scope)
    activity = person_activity(frame, found.id, chosen.period, chosen.limit, conn)
    tags = [
        {"tag": str(t), "source": str(s)}
        for t, s in conn.execute(
            "SELECT tag, source FROM person_tags WHERE person = ? ORDER BY tag", (found.id,)
        )
    ]
    data: dict[str, Any] = {
        "key": found.key,
        "name": found.name,
        "identities": [{"kind": r.kind, "value": r.value} for r in found.identities],
        "names": list(found.names),
        "tags": tags,
        "bot": bot_state,
        "scope": stats_params.scope_data(scope, chosen, frame),
        "choices": stats_params.choices(),
        "activity": {
            **{k: v for k, v in stats_params.record(activity).items() if k not in _PERSON_ROWS},
            **{t: stats_params.rows(getattr(activity, t)) for t in PERSON_TABLES},
        },
        "links": {
            "json": _with_args(url_for("persons.person_json", key=found.key)),
            "csv": {
                t: _with_args(
                    url_for("persons.person_csv", key=found.key), {"table": t} if i else {}
                )
                for i, t in enumerate(PERSON_TABLES)
            },
        },
    }
    table = stats_params.csv_table(
        f"{found.key}-{chosen.table}",
        _PERSON_ROWS[chosen.table],
        getattr(
            person_activity(frame, found.id, chosen.period, None, conn)
            if stats_params.wants_all_rows()
            else activity,
            chosen.table,
        ),
        scope,
    )
    return render("person.html", data, table=table)


@bp.get("/persons/suggestions")
@bp.get("/persons/suggestions.json", endpoint="suggestions_json")
@bp.get("/persons/suggestions.csv", endpoint="suggestions_csv")
@require_role("facilitator")
def suggestions() -> ResponseReturnValue:
    """Merge suggestions with what a facilitator needs to decide: each person's addresses in
    full (staff only: the page needs the facilitator role, as /persons) with the posts and
    first/last post day of each, the person's total, and "Different people" for every pair.
    `web.suggestions_page_size` a page (`?page=N`, a page past the end is empty); the CSV
    twin has every suggestion shown, or one page's with `?page=`."""
    conn = get_store().conn
    number = _page_number()
    distinct_ids = sorted(conn.execute("SELECT a, b FROM person_distinct").fetchall())
    header = ["suggestion", "key", "name", "messages"]
    if wants_csv() and "page" not in request.args:  # the export: every suggestion shown
        rows = merge_suggestions.all_rows(conn, distinct_ids)
        return render("person_suggestions.html", {}, table=CsvTable(FILE, header, rows))
    shown = merge_suggestions.page(conn, distinct_ids, number)
    data: dict[str, Any] = merge_suggestions.paging(number, shown.total)
    g.full_addresses = True  # addresses in full (staff): base.html's footer says so
    if wants_json() or wants_csv():
        items = shown.items()
        table = CsvTable(FILE, header, merge_suggestions.csv_rows(items))
        return render("person_suggestions.html", {"suggestions": items, **data}, table=table)
    # the page: its list rendered once per state (the page's items read only then)
    store = get_store()  # the store's file too: a process may serve several (tests)
    state = (
        f"{store.path}:{shown.key}:{figure_cache.state(conn)}" if stats_figures.enabled() else None
    )
    data["listing"], fill = merge_suggestions.listing(state, shown.items, number)
    return render("person_suggestions.html", data, fill=fill)


@bp.get("/persons/bots")
@bp.get("/persons/bots.json", endpoint="bots_page_json")
@bp.get("/persons/bots.csv", endpoint="bots_page_csv")
@require_role("facilitator")
def bots_page() -> ResponseReturnValue:
    """Persons marked as bots or as not bots (who decided, when, why), and suggested bots
    with their score and reasons; the CSV has both, one row per person."""
    conn = get_store().conn
    marked = bots.decisions(conn)
    suggested = bot_suggestions()
    data = {
        "marked": [{**d.as_dict(), "url": url_for("persons.person", key=d.key)} for d in marked],
        "suggestions": [{**s, "url": url_for("persons.person", key=s["key"])} for s in suggested],
        "threshold": bot_scores.THRESHOLD,
    }
    header = ["key", "name", "state", "score", "posts", "reasons", "at", "actor", "reason"]
    rows: list[list[Any]] = [
        [d.key, d.name, d.state, "", "", "", d.at, d.actor, d.reason] for d in marked
    ]
    rows += [
        [
            s["key"],
            s["name"],
            "suggested",
            s["score"],
            s["posts"],
            "; ".join(s["reasons"]),
            "",
            "",
            "",
        ]
        for s in suggested
    ]
    return render("bots.html", data, table=CsvTable("bots.csv", header, rows))


@bp.get("/persons/events")
@bp.get("/persons/events.json", endpoint="events_json")
@bp.get("/persons/events.csv", endpoint="events_csv")
@require_role("facilitator")
def events() -> ResponseReturnValue:
    found = merges.events(get_store().conn, 200)
    data = {"events": [e.as_dict() for e in found]}
    header = ["id", "at", "actor", "action", "detail", "undone_by"]
    rows = [
        [e.id, e.at, e.actor, e.action, json.dumps(e.detail, sort_keys=True), e.undone_by]
        for e in found
    ]
    return render("person_events.html", data, table=CsvTable("person-events.csv", header, rows))


# -- writes ------------------------------------------------------------------------------------


def _actor() -> str:
    user = current_user()
    return f"web:{user.username}" if user else "web"


def _done(event: int, target: str) -> ResponseReturnValue:
    if wants_json():
        return jsonify({"event": event, "url": target})
    return redirect(target, 303)


def _attempt(action: Any, *args: Any) -> int:
    try:
        result: int = action(get_writable_store().conn, *args, _actor())
    except merges.UnknownPersonError as exc:
        abort(404, str(exc))
    except merges.MergeError as exc:
        abort(409, str(exc))
    return result


@bp.post("/persons/merge")
@require_role("facilitator")
def merge() -> ResponseReturnValue:
    into = request.form.get("into", "").strip()
    others = [k.strip() for k in request.form.getlist("other") if k.strip()]
    if not into or not others:
        abort(400, "merge needs `into` and at least one `other` person key")
    event = _attempt(merges.merge, into, others)
    return _done(event, url_for("persons.person", key=into))


@bp.post("/persons/distinct")
@require_role("facilitator")
def distinct() -> ResponseReturnValue:
    first, second = request.form.get("a", "").strip(), request.form.get("b", "").strip()
    if not first or not second:
        abort(400, "give the two person keys `a` and `b`")
    event = _attempt(merges.mark_distinct, first, second)
    return _done(event, url_for("persons.suggestions", page=_back_page()))


def _back_page() -> int | None:
    """The page of suggestions a form was on (its `page`), None for the first or not a page
    (`views.digits`: never a 500 after the change was recorded)."""
    back = request.form.get("page", "").strip()
    if not digits(back):
        return None
    number = int(back)
    return number if 1 < number <= 10**6 else None


@bp.post("/persons/<key>/split")
@require_role("facilitator")
def split(key: str) -> ResponseReturnValue:
    kind, value = request.form.get("kind", ""), request.form.get("value", "")
    if kind not in (identities.ADDRESS, identities.NAME) or not value:
        abort(400, "split needs the identity's `kind` (address or name) and `value`")
    event = _attempt(merges.split, key, [IdentityRef(kind, value)])
    return _done(event, url_for("persons.person", key=key))


@bp.post("/persons/events/<int:event_id>/undo")
@require_role("facilitator")
def undo(event_id: int) -> ResponseReturnValue:
    event = _attempt(merges.undo, event_id)
    return _done(event, url_for("persons.events"))


@bp.post("/persons/<key>/bot")
@require_role("facilitator")
def mark_bot(key: str) -> ResponseReturnValue:
    """Mark a person as a bot (`state=bot`, the default) or as not a bot (`state=not-bot`),
    with an optional `reason`; answers the event (0: the person already had that mark)."""
    state = request.form.get("state", bots.BOT).strip()
    if state not in bots.ACTIONS:
        abort(400, f"state must be {bots.BOT} or {bots.NOT_BOT}")
    try:
        event = bots.decide(
            get_writable_store().conn, key, state, _actor(), request.form.get("reason", "")
        )
    except bots.UnknownBotPersonError as exc:
        abort(404, str(exc))
    except bots.BotError as exc:
        abort(400, str(exc))
    back = request.form.get("next", "")
    target = back if back == url_for("persons.bots_page") else url_for("persons.person", key=key)
    return _done(event, target)
