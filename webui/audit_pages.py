"""The migration audit and the roster reports (personal data: secretariat role).

`/audit`: the communities that can be audited.  `/audit/<community>`: summary numbers, the
per-person table (filter `?status=`), the messages sent to the old list after the cutover and
after the close, cross-posted messages and threads continued on the new list (the oldest
`?limit=` rows of each, 200 by default; the summary counts all, and `.csv?table=<list>`
exports one list whole); `?window=DAYS` or `?since=YYYY-MM-DD` sets the window before the
cutover.  `/rosters`: the imported roster snapshots; `/rosters/<list>`: members who never
post and posters who are not members; `/rosters/community/<name>`: also the old list's members
who have not joined the new list.  Every page has its JSON twin (`.json`, the same dict) and
a CSV of its main table (`.csv`).  Definitions: docs/migration-audit.md.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Blueprint, abort, g, request, url_for
from flask.typing import ResponseReturnValue

from analytics import migration
from analytics import rosters as roster_reports
from store import communities, rosters
from webui.auth import require_role
from webui.extensions import get_store
from webui.views import CsvTable, digits, render

logger = logging.getLogger(__name__)

bp = Blueprint("audit", __name__)

MAX_WINDOW = 36_500
AUDIT_TABLES = (
    "persons",
    "old_after_cutover",
    "old_after_close",
    "cross_posted",
    "continued_threads",
)
MESSAGE_LIMIT = 200
"""Rows of each message list on the page and in JSON (`?limit=`); the CSV has them all."""


def _limit() -> int:
    value = request.args.get("limit", "").strip() or str(MESSAGE_LIMIT)
    if not digits(value) or not 1 <= int(value) <= 100_000:
        abort(400, "limit must be a number from 1 to 100000")
    return int(value)


def _person_url(key: str | None) -> str | None:
    return url_for("persons.person", key=key) if key else None


def _since() -> date | None:
    value = request.args.get("since", "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, f"since must be a day written YYYY-MM-DD, not {value!r}")


def _window() -> int:
    value = request.args.get("window", "").strip() or "365"
    if not digits(value) or not 1 <= int(value) <= MAX_WINDOW:
        abort(400, f"window must be a number of days from 1 to {MAX_WINDOW}")
    return int(value)


@bp.get("/audit")
@bp.get("/audit.json", endpoint="audits_json")
@bp.get("/audit.csv", endpoint="audits_csv")
@require_role("secretariat")
def audits() -> ResponseReturnValue:
    """The communities that can be audited (two lists or more), with their dates."""
    conn = get_store().conn
    found: list[dict[str, Any]] = []
    for c in communities.all_communities(conn):
        if len(c.lists) < 2:
            continue
        old, new, inferred = communities.old_and_new(conn, c)
        found.append(
            {
                "name": c.name,
                "lists": list(c.lists),
                "old_list": old,
                "new_list": new,
                "old_new_inferred": inferred,
                "cutover": c.cutover,
                "closed": c.closed,
                "url": url_for("audit.audit", community=c.name),
            }
        )
    data = {"communities": found}
    header = ["name", "lists", "old_list", "new_list", "old_new_inferred", "cutover", "closed"]
    rows = [[" ".join(c[h]) if h == "lists" else c[h] for h in header] for c in found]
    return render("audit_index.html", data, table=CsvTable("audits.csv", header, rows))


@bp.get("/audit/<community>")
@bp.get("/audit/<community>.json", endpoint="audit_json")
@bp.get("/audit/<community>.csv", endpoint="audit_csv")
@require_role("secretariat")
def audit(community: str) -> ResponseReturnValue:
    conn = get_store().conn
    try:
        communities.get(conn, community)
    except communities.CommunityError:
        abort(404, f"No community {community}.")
    status = request.args.get("status", "").strip() or None
    if status is not None and status not in migration.STATUSES:
        abort(400, f"status must be one of {', '.join(migration.STATUSES)}")
    since = _since()
    window = _window()
    table_name = request.args.get("table", "").strip() or "persons"
    if table_name not in AUDIT_TABLES:
        abort(400, f"table must be one of {', '.join(AUDIT_TABLES)}")
    limit = _limit()
    whole = request.path.endswith(".csv")  # a CSV export has every row
    try:
        result = migration.audit(
            conn, community, window_days=window, since=since, message_limit=None if whole else limit
        )
    except migration.AuditError as exc:
        abort(400, str(exc))
    data = result.as_dict()
    data["status"] = status
    data["statuses"] = list(migration.STATUSES)
    data["persons"] = [
        {**p, "url": _person_url(p["key"])}
        for p in data["persons"]
        if status is None or p["status"] == status
    ]
    data["limit"] = limit
    query: dict[str, Any] = {
        k: v for k, v in request.args.items() if k in ("status", "since", "window", "limit")
    }
    data["links"] = {
        "json": url_for("audit.audit_json", community=community, **query),
        "csv": url_for("audit.audit_csv", community=community, **query),
        "tables": {
            t: url_for("audit.audit_csv", community=community, **query, table=t)
            for t in AUDIT_TABLES[1:]
        },
    }
    if table_name == "persons":
        header, rows = result.person_table(status)
        filename = f"audit-{community}{'-' + status if status else ''}.csv"
    else:
        header, rows = result.message_table(table_name)
        filename = f"audit-{community}-{table_name}.csv"
    table = CsvTable(filename, header, rows)
    return render("audit.html", data, table=table)


def _snapshot(r: rosters.Roster) -> dict[str, Any]:
    return r.as_dict() | {"url": url_for("audit.roster", name=r.list_name) if r.current else None}


@bp.get("/rosters")
@bp.get("/rosters.json", endpoint="rosters_json")
@bp.get("/rosters.csv", endpoint="rosters_csv")
@require_role("secretariat")
def rosters_index() -> ResponseReturnValue:
    conn = get_store().conn
    snapshots = [_snapshot(r) for r in rosters.all_rosters(conn)]
    with_roster = {s["list"] for s in snapshots}
    moved = []
    for c in communities.all_communities(conn):
        old, new, _inferred = communities.old_and_new(conn, c)
        if old and new and old in with_roster and new in with_roster:
            moved.append(
                {
                    "community": c.name,
                    "old_list": old,
                    "new_list": new,
                    "url": url_for("audit.roster_community", name=c.name),
                }
            )
    data = {
        "rosters": snapshots,
        "communities": moved,
        "links": {"json": url_for("audit.rosters_json"), "csv": url_for("audit.rosters_csv")},
    }
    columns = ("list", "as_of", "members", "format", "source", "imported_at", "current")
    table = CsvTable("rosters.csv", columns, [[s[c] for c in columns] for s in snapshots])
    return render("rosters.html", data, table=table)


def _link_persons(report: dict[str, Any]) -> None:
    for part in [report, *report.get("lists", [])]:
        for key in ("members_never_posted", "posters_not_members", "old_not_joined"):
            for row in part.get(key, []):
                row["url"] = _person_url(row.get("person_key"))


def _report(name: str, *, community: bool) -> dict[str, Any]:
    conn = get_store().conn
    try:
        if community:
            return roster_reports.community_report(conn, name, since=_since())
        return roster_reports.list_report(conn, name, since=_since())
    except roster_reports.RosterReportError as exc:
        abort(404, str(exc))


def _roster_page(name: str, community: bool) -> ResponseReturnValue:
    """A list's roster report, or a community's (which adds the old members not on the new
    list); the same template, JSON twin and CSV columns."""
    report = _report(name, community=community)
    _link_persons(report)
    endpoint = "audit.roster_community" if community else "audit.roster"
    report["links"] = {
        "json": url_for(f"{endpoint}_json", name=name),
        "csv": url_for(f"{endpoint}_csv", name=name),
    }
    table = CsvTable(
        f"roster-{'community-' if community else ''}{name}.csv",
        roster_reports.REPORT_COLUMNS,
        roster_reports.report_rows(report),
    )
    page = {"report": report, **({} if community else {"community": None}), **report}
    g.full_addresses = True  # members' addresses in full (secretariat): base.html's footer says so
    return render("roster.html", page, table=table)


@bp.get("/rosters/<name>")
@bp.get("/rosters/<name>.json", endpoint="roster_json")
@bp.get("/rosters/<name>.csv", endpoint="roster_csv")
@require_role("secretariat")
def roster(name: str) -> ResponseReturnValue:
    return _roster_page(name, community=False)


@bp.get("/rosters/community/<name>")
@bp.get("/rosters/community/<name>.json", endpoint="roster_community_json")
@bp.get("/rosters/community/<name>.csv", endpoint="roster_community_csv")
@require_role("secretariat")
def roster_community(name: str) -> ResponseReturnValue:
    return _roster_page(name, community=True)
