"""Statistics dashboards (issue 7, engagement): `/stats` for everyone, and the pages that name
people for facilitators (`/stats/people`, `/stats/responses`, `/stats/network`,
`/stats/cohorts`).

Every page answers HTML, its JSON twin (`.json`, the same dict) and a CSV twin (`.csv`) of its
main table; `?table=NAME` picks another of the page's tables for the CSV (the page lists them).
The numbers come from `analytics` (definitions: docs/analytics.md); charts are drawn in the
browser from the JSON twin, and the same numbers are always in a table.  Anonymous visitors get
aggregate numbers of public lists only; logged-in users also see private lists.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, make_response, request, url_for
from flask.typing import ResponseReturnValue

from analytics import activity, cohorts, network, responses
from analytics.cohorts import LAPSE_DAYS
from analytics.frame import Frame
from analytics.scope import Scope, resolve_scope
from webui.auth import require_role
from webui.extensions import get_store
from webui.merge_suggestions import suggestion_url
from webui.stats_figures import FRAME_COUNTS, figures, people_suggestions
from webui.stats_params import (
    DEFAULT_LIMIT,
    Params,
    choices,
    csv_table,
    filename,
    frame_of,
    include_private,
    integer,
    links,
    params,
    record,
    rows,
    scope_data,
    scope_of,
)
from webui.views import CsvTable, render, wants_csv

logger = logging.getLogger(__name__)

bp = Blueprint("stats", __name__)

OVERVIEW_TABLES = (
    "activity",
    "cohorts",
    "responses",
    "weekdays",
    "hours",
    "days",
    "threads_by_replies",
    "threads_by_participants",
)
PEOPLE_TABLES = ("posters", "newcomers")
RESPONSE_TABLES = ("unanswered", "periods")
NETWORK_TABLES = ("connectors", "pairs", "edges")
COHORT_TABLES = ("retention", "curve", "periods")
OVERVIEW_LIMIT = 20
MAX_LAPSE_DAYS = 3650
MAX_HORIZON = 120


def _setup(tables: tuple[str, ...], limit: int = DEFAULT_LIMIT) -> tuple[Params, Scope]:
    found = params(tables, limit)
    return found, scope_of(found)


def _base(
    endpoint: str, tables: tuple[str, ...], found: Params, scope: Scope, data: dict[str, Any]
) -> dict[str, Any]:
    """The page's common parts; `data`: its figures (`webui.stats_figures`)."""
    return {
        "scope": scope_data(scope, found, data.pop(FRAME_COUNTS)),
        "choices": choices(),
        "links": links(endpoint, tables),
        "tables": list(tables),
    }


def _answer(response: ResponseReturnValue) -> Response:
    """Answers depend on the login (private lists): never cached for another visitor."""
    answer = make_response(response)
    answer.vary.add("Cookie")
    if include_private():
        answer.headers["Cache-Control"] = "private, no-store"
    return answer


# -- /stats: aggregate and public --------------------------------------------------------------


def _overview_table(found: Params, frame: Frame, scope: Scope, lapse: int) -> CsvTable:
    name = found.table
    if name == "activity":
        return csv_table(name, activity.PeriodActivity, activity.series(frame, found.period), scope)
    if name == "cohorts":
        counts = cohorts.cohort_counts(frame, found.period, lapse)
        return csv_table(name, cohorts.CohortPeriod, counts, scope)
    if name == "responses":
        by_period = responses.by_period(frame, found.period)
        return csv_table(name, responses.ResponsePeriod, by_period, scope)
    if name == "weekdays":
        return csv_table(name, activity.WeekdayCount, activity.weekdays(frame), scope)
    if name == "hours":
        return csv_table(name, activity.HourCount, activity.hours(frame), scope)
    if name == "days":
        return csv_table(name, activity.DayCount, activity.busiest_days(frame, 366), scope)
    by = name.removeprefix("threads_by_")
    return csv_table(name, activity.ThreadStat, activity.top_threads(frame, by, None), scope)


@bp.get("/stats")
@bp.get("/stats.json", endpoint="overview_json")
@bp.get("/stats.csv", endpoint="overview_csv")
def overview() -> ResponseReturnValue:
    found, scope = _setup(OVERVIEW_TABLES, OVERVIEW_LIMIT)
    lapse = integer("lapse_days", LAPSE_DAYS, 0, MAX_LAPSE_DAYS)
    offered = choices()
    if (
        not wants_csv()
        and not found.lists
        and not found.community
        and len(offered["communities"]) > 1
        and request.args.get("scope", "").strip() != "all"
    ):
        return _answer(render("stats_choose.html", _choose(found, offered)))
    if wants_csv():
        table = _overview_table(found, frame_of(scope), scope, lapse)
        return _answer(render("stats.html", {}, table=table))
    data = figures("overview", scope, found, {"lapse": lapse}, lambda f: _overview(f, found, lapse))
    base = _base("overview", OVERVIEW_TABLES, found, scope, data)
    return _answer(render("stats.html", {**base, **data}))


def _overview(frame: Frame, found: Params, lapse: int) -> dict[str, Any]:
    counts = activity.thread_counts(frame)  # ranked two ways
    return {
        "totals": record(activity.totals(frame)),
        "activity": rows(activity.series(frame, found.period)),
        "lapse_days": lapse,
        "cohorts": rows(cohorts.cohort_counts(frame, found.period, lapse)),
        "responses": record(responses.summary(frame)),  # no outcomes list: from the columns
        "responses_by_period": rows(responses.by_period(frame, found.period)),
        "weekdays": rows(activity.weekdays(frame)),
        "hours": rows(activity.hours(frame)),
        "busiest_days": rows(activity.busiest_days(frame)),
        "threads_by_replies": rows(activity.top_threads(frame, "replies", found.limit, counts)),
        "threads_by_participants": rows(
            activity.top_threads(frame, "participants", found.limit, counts)
        ),
    }


def _choose(found: Params, offered: dict[str, Any]) -> dict[str, Any]:
    """Several communities and no scope chosen: one summary per community (unrelated
    communities are not mixed by default), each linking to its dashboard."""
    conn = get_store().conn
    summaries = []
    for name in offered["communities"]:
        scope = resolve_scope(
            conn,
            community=name,
            start=found.start,
            end=found.end,
            include_private=include_private(),
            include_bots=found.include_bots,
        )
        summaries.append(
            {
                "community": name,
                "lists": list(scope.lists),
                **figures("totals", scope, found, {}, _totals)["totals"],
                "url": url_for("stats.overview", community=name, **_window_args()),
            }
        )
    return {
        "choose_scope": True,
        "communities": summaries,
        "all_url": url_for("stats.overview", scope="all", **_window_args()),
        "choices": offered,
    }


def _totals(frame: Frame) -> dict[str, Any]:
    return {"totals": record(activity.totals(frame))}


def _window_args() -> dict[str, Any]:
    return {k: v for k in ("start", "end", "bots") if (v := request.args.get(k, "").strip())}


# -- facilitator pages: they name people -------------------------------------------------------


@bp.get("/stats/people")
@bp.get("/stats/people.json", endpoint="people_json")
@bp.get("/stats/people.csv", endpoint="people_csv")
@require_role("facilitator")
def people() -> ResponseReturnValue:
    found, scope = _setup(PEOPLE_TABLES)
    # suggested bots (analytics.bots, not yet decided) are left out like marked ones, unless
    # ?bots=include; "new" means something only when the window starts after the archive
    suggested = people_suggestions(scope.include_bots)
    hidden = set(suggested["hidden"])
    if wants_csv():
        frame = frame_of(scope)
        if found.table == "posters":
            everyone = [p for p in activity.top_posters(frame, None) if p.person not in hidden]
            table = csv_table("posters", activity.Poster, everyone, scope)
        else:
            table = csv_table("newcomers", cohorts.Newcomer, cohorts.newcomers(frame), scope)
        return render("stats_people.html", {}, table=table)
    extra = {"hidden": sorted(hidden)}
    found_figures = figures("people", scope, found, extra, lambda f: _people(f, found, hidden))
    duplicates, ranks = suggested["duplicates"], suggested["ranks"]
    posters = []
    for row in found_figures["posters"]:
        name = duplicates.get(row["person"])
        row["duplicate_of"] = name
        # the page of /persons/suggestions showing it, at its anchor
        row["suggestion_url"] = suggestion_url(name, ranks[name]) if name else None
        row["new"] = bool(scope.start) and bool(row["newcomer"])
        posters.append(row)
    data = {
        **_base("people", PEOPLE_TABLES, found, scope, found_figures),
        "totals": found_figures["totals"],
        "posters": posters,
        "new_defined": bool(scope.start),
        "suggested_bots_hidden": sorted(hidden),
        "newcomers_total": found_figures["newcomers_total"],
        "newcomers": found_figures["newcomers"],
    }
    return render("stats_people.html", data)


def _posters(frame: Frame, limit: int, hidden: set[str]) -> list[activity.Poster]:
    """The first `limit` posters not `hidden` (person keys): among the first `limit +
    len(hidden)` when keys are unique (each row is its own, the sort stable: the rows of every
    poster ranked, 42,902 at 1M, then filtered), all of them ranked otherwise."""
    wanted = limit + len(hidden)
    ranked = activity.top_posters(frame, wanted)
    shown = [p for p in ranked if p.person not in hidden]
    if len(shown) < limit and len(ranked) == wanted:  # a hidden key on several rows
        shown = [p for p in activity.top_posters(frame, None) if p.person not in hidden]
    return shown[:limit]


def _people(frame: Frame, found: Params, hidden: set[str]) -> dict[str, Any]:
    # the newest `limit` rows only (each row is its own: the same as the first of them all)
    newest = cohorts.newcomers(frame, found.limit)
    return {
        "totals": record(activity.totals(frame)),
        "posters": rows(_posters(frame, found.limit, hidden)),
        "newcomers_total": cohorts.newcomer_count(frame),
        "newcomers": rows(newest),
    }


@bp.get("/stats/responses")
@bp.get("/stats/responses.json", endpoint="response_page_json")
@bp.get("/stats/responses.csv", endpoint="response_page_csv")
@require_role("facilitator")
def response_page() -> ResponseReturnValue:
    found, scope = _setup(RESPONSE_TABLES)
    if wants_csv():
        frame = frame_of(scope)
        if found.table == "unanswered":
            table = csv_table(
                "unanswered", responses.Unanswered, responses.unanswered(frame), scope
            )
        else:
            by_period = responses.by_period(frame, found.period)
            table = csv_table("periods", responses.ResponsePeriod, by_period, scope)
        return render("stats_responses.html", {}, table=table)
    data = figures("responses", scope, found, {}, lambda f: _responses(f, found))
    base = _base("response_page", RESPONSE_TABLES, found, scope, data)
    return render("stats_responses.html", {**base, **data})


def _responses(frame: Frame, found: Params) -> dict[str, Any]:
    summary = responses.summary(frame)  # no outcomes list: from the columns
    return {
        "responses": record(summary),
        "by_period": rows(responses.by_period(frame, found.period)),
        "unanswered_total": summary.threads - summary.answered,
        "unanswered": rows(responses.unanswered(frame, found.limit)),
    }


@bp.get("/stats/network")
@bp.get("/stats/network.json", endpoint="network_page_json")
@bp.get("/stats/network.csv", endpoint="network_page_csv")
@require_role("facilitator")
def network_page() -> ResponseReturnValue:
    found, scope = _setup(NETWORK_TABLES)
    if wants_csv():
        frame = frame_of(scope)
        if found.table == "connectors":
            found_rows = network.connectors(frame, None)
            table = csv_table("connectors", network.Connector, found_rows, scope)
        elif found.table == "pairs":
            table = csv_table("pairs", network.Pair, network.pair_list(frame, None), scope)
        else:
            table = csv_table("edges", network.Edge, network.edge_list(frame, None), scope)
        return render("stats_network.html", {}, table=table)
    data = figures("network", scope, found, {}, lambda f: _network(f, found))
    base = _base("network_page", NETWORK_TABLES, found, scope, data)
    return render("stats_network.html", {**base, **data})


def _network(frame: Frame, found: Params) -> dict[str, Any]:
    found_network = network.network(frame, found.limit)
    return {
        "network": {
            "reply_posts": found_network.reply_posts,
            "self_replies": found_network.self_replies,
            "edges_total": found_network.edges_total,
            "people": found_network.people,
        },
        "connectors": rows(found_network.connectors),
        "pairs": rows(found_network.pairs),
        "edges": rows(found_network.edges),
    }


def _retention_table(retention: cohorts.Retention, scope: Scope) -> CsvTable:
    header = ["cohort", "size", *(f"k{k}" for k in range(retention.horizon + 1))]
    return CsvTable(
        f"{filename(scope)}-retention.csv",
        header,
        [[r.cohort, r.size, *r.retained] for r in retention.rows],
    )


@bp.get("/stats/cohorts")
@bp.get("/stats/cohorts.json", endpoint="cohort_page_json")
@bp.get("/stats/cohorts.csv", endpoint="cohort_page_csv")
@require_role("facilitator")
def cohort_page() -> ResponseReturnValue:
    found, scope = _setup(COHORT_TABLES)
    lapse = integer("lapse_days", LAPSE_DAYS, 0, MAX_LAPSE_DAYS)
    horizon = integer("horizon", cohorts.HORIZON, 0, MAX_HORIZON)
    if wants_csv():
        frame = frame_of(scope)
        retention = cohorts.retention(frame, found.period, horizon)
        if found.table == "retention":
            table = _retention_table(retention, scope)
        elif found.table == "curve":
            table = csv_table("curve", cohorts.RetentionPoint, retention.curve, scope)
        else:
            counts = cohorts.cohort_counts(frame, found.period, lapse)
            table = csv_table("periods", cohorts.CohortPeriod, counts, scope)
        return render("stats_cohorts.html", {}, table=table)
    extra = {"lapse": lapse, "horizon": horizon}
    data = figures("cohorts", scope, found, extra, lambda f: _cohorts(f, found, lapse, horizon))
    base = _base("cohort_page", COHORT_TABLES, found, scope, data)
    return render("stats_cohorts.html", {**base, **data})


def _cohorts(frame: Frame, found: Params, lapse: int, horizon: int) -> dict[str, Any]:
    return {
        "lapse_days": lapse,
        "horizon": horizon,
        "cohorts": rows(cohorts.cohort_counts(frame, found.period, lapse)),
        "retention": record(cohorts.retention(frame, found.period, horizon)),
    }
