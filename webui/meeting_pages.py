"""Meetings and tags (personal data: facilitator role, which the secretariat also has).

`/meetings`: the imported meetings and every tag with its persons and whether they are active
on the lists; `/meetings/<name>`: each participant with their match, person, suggestions and
activity (`?days=N`, default 365), with a form per participant to confirm a suggestion, look a
person up by name (`?find=<position>&q=<text>`: the matching persons, each with a confirm
button), or remove the match.  The forms POST with the CSRF token, write through the
request's writable store with the logged-in user as the actor, and redirect back (JSON clients
get the participant).  Every page has its JSON twin and a CSV of its main table.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from analytics import attendance
from store import meetings, tags
from webui import stats_figures
from webui.auth import current_user, require_role
from webui.extensions import get_store, get_writable_store
from webui.views import CsvTable, digits, render, wants_json

logger = logging.getLogger(__name__)

bp = Blueprint("meetings", __name__)

MAX_DAYS = 36_500
PARTICIPANT_COLUMNS = (
    "position",
    "name",
    "match",
    "person_key",
    "person_name",
    "last_post",
    "recent_posts",
    "active",
    "suggestions",
)


def _days() -> int:
    value = request.args.get("days", "").strip() or str(attendance.DAYS)
    if not digits(value) or not 1 <= int(value) <= MAX_DAYS:
        abort(400, f"days must be a number from 1 to {MAX_DAYS}")
    return int(value)


def _person_url(key: str | None) -> str | None:
    return url_for("persons.person", key=key) if key else None


@bp.get("/meetings")
@bp.get("/meetings.json", endpoint="meetings_json")
@bp.get("/meetings.csv", endpoint="meetings_csv")
@require_role("facilitator")
def index() -> ResponseReturnValue:
    conn = get_store().conn
    days = _days()
    found = attendance.meetings_summary(conn)
    for m in found:
        m["url"] = url_for("meetings.meeting", name=m["name"])
    tagged = attendance.tags_report(conn, days=days)
    for t in tagged:
        for p in t["persons"]:
            p["url"] = _person_url(p["key"])
    data = {
        "days": days,
        "as_of": attendance.reference_day(conn).isoformat(),
        "meetings": found,
        "tags": tagged,
        "links": {
            "json": url_for("meetings.meetings_json"),
            "csv": url_for("meetings.meetings_csv"),
        },
    }
    columns = ("name", "date", "community", "tag", "participants", "matched")
    table = CsvTable("meetings.csv", columns, [[m[c] for c in columns] for m in found])
    return render("meetings.html", data, table=table)


@bp.get("/meetings/<name>")
@bp.get("/meetings/<name>.json", endpoint="meeting_json")
@bp.get("/meetings/<name>.csv", endpoint="meeting_csv")
@require_role("facilitator")
def meeting(name: str) -> ResponseReturnValue:
    days = _days()
    try:
        report = attendance.meeting_report(
            get_store().conn, name, days=days, suggest=stats_figures.meeting_suggestions
        )
    except meetings.MeetingError:
        abort(404, f"No meeting {name}.")
    for p in report["participants"]:
        p["url"] = _person_url(p["person_key"])
        for s in p["suggestions"]:
            s["url"] = _person_url(s["key"])
    report["lookup"] = _lookup(report["participants"])
    report["links"] = {
        "json": url_for("meetings.meeting_json", name=name),
        "csv": url_for("meetings.meeting_csv", name=name),
        "confirm": url_for("meetings.confirm", name=name),
        "unmatch": url_for("meetings.unmatch", name=name),
    }
    rows = [
        [p[c] for c in PARTICIPANT_COLUMNS[:-1]]
        + [" ".join(f"{s['key']}:{s['reason']}" for s in p["suggestions"])]
        for p in report["participants"]
    ]
    table = CsvTable(f"meeting-{name}.csv", PARTICIPANT_COLUMNS, rows)
    return render("meeting.html", report, table=table)


LOOKUP_LIMIT = 10


def _lookup(participants: list[dict[str, Any]]) -> dict[str, Any] | None:
    """`?find=<position>&q=<text>`: the persons whose name, address or key holds `q`, to
    confirm one for that participant by hand (a name lookup instead of a typed person key)."""
    where = request.args.get("find", "").strip()
    if not where:
        return None
    if not digits(where) or not any(p["position"] == int(where) for p in participants):
        abort(400, "find must be the #position of a participant")
    q = request.args.get("q", "").strip()
    total, found = stats_figures.person_page(q, LOOKUP_LIMIT, 0) if q else (0, [])
    return {
        "position": int(where),
        "q": q,
        "total": total,
        "persons": [
            {
                "key": r.key,
                "name": r.name,
                "messages": r.messages,
                "first": _day(r.first),
                "last": _day(r.last),
                "url": _person_url(r.key),
            }
            for r in found
        ],
    }


def _day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def _actor() -> str:
    user = current_user()
    return f"web:{user.username}" if user else "web"


def _answer(name: str, p: meetings.Participant) -> ResponseReturnValue:
    target = url_for("meetings.meeting", name=name)
    if wants_json():
        return jsonify(
            {
                "participant": p.name,
                "position": p.position,
                "match": p.match,
                "person_key": p.person_key or None,
                "url": target,
            }
        )
    return redirect(target, 303)


def _participant() -> str:
    which = request.form.get("participant", "").strip()
    if not which:
        abort(400, "give the `participant` (its name as listed, or #position)")
    return which


@bp.post("/meetings/<name>/confirm")
@require_role("facilitator")
def confirm(name: str) -> ResponseReturnValue:
    which = _participant()
    person_key = request.form.get("person_key", "").strip()
    if not person_key:
        abort(400, "give the `person_key` of the person to match")
    try:
        p = meetings.confirm(get_writable_store().conn, name, which, person_key, _actor())
    except (meetings.MeetingError, tags.TagError) as exc:
        abort(404 if isinstance(exc, meetings.UnknownMeetingError) else 409, str(exc))
    logger.info("%s matched %r of %s to %s", _actor(), p.name, name, p.person_key)
    return _answer(name, p)


@bp.post("/meetings/<name>/unmatch")
@require_role("facilitator")
def unmatch(name: str) -> ResponseReturnValue:
    which = _participant()
    try:
        p = meetings.unmatch(get_writable_store().conn, name, which, _actor())
    except meetings.MeetingError as exc:
        abort(404 if isinstance(exc, meetings.UnknownMeetingError) else 409, str(exc))
    logger.info("%s removed the match of %r in %s", _actor(), p.name, name)
    return _answer(name, p)
