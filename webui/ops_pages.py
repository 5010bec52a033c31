"""The secretariat's operations pages (issue 12): sync runs, failing lists and the quarantine.

`/runs` (`?list=`, `?status=`, `?page=`, `?per_page=`): recent runs across lists, newest first,
with their failures, warnings and deadline lines, and every list's health (consecutive failed
runs, last error, last success) with the failing ones first; its JSON twin carries the same
`runs` and `lists` as `listarchive runs --json` (`store.runs.report`).  `/runs/<id>`: one run's
whole summary and its failed volumes.  `/quarantine` (`?list=`, paging): the messages a sync
could not parse, with the reason, list, origin volume, position, size and date stored.
`/quarantine/<id>`: the first `web.quarantine_view_bytes` of its bytes as text (undecodable
bytes replaced, escaped like any text: never rendered as HTML) and `/quarantine/<id>/raw`, the
stored bytes as an `application/octet-stream` attachment.  Lists come as `.csv` too.

Everything goes through `webui.access.viewer()`; stored URLs are redacted (`store.redact`).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from flask.typing import ResponseReturnValue

from store import quarantine, runs
from store.store import StoreError
from webui import access
from webui.auth import require_role
from webui.extensions import get_store, get_writable_store, settings
from webui.views import CsvTable, digits, render

logger = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)
access.init_blueprint(bp)

MAX_PER_PAGE = 500
RUN_COLUMNS = (
    "id",
    "list",
    "started_at",
    "finished_at",
    "status",
    "volumes_fetched",
    "volumes_unchanged",
    "volumes_failed",
    "new_messages",
    "duplicates",
    "quarantined",
    "error",
    "deadline",
)
QUARANTINE_COLUMNS = (
    "id",
    "list",
    "origin",
    "position",
    "reason",
    "size",
    "sha256",
    "created_at",
)
PREFIX_NOTE = (
    "A message larger than sync.max_message_bytes is quarantined with its first 64 KiB only: "
    "for those, the stored bytes (and the download) are that prefix, not the whole message."
)


def _args() -> dict[str, Any]:
    """This request's query parameters, for links to the same page in another form."""
    return dict(request.args.items())


def _paging() -> tuple[int, int]:
    """(page number from 1, rows per page) from `?page=` and `?per_page=`."""
    size = settings()["web.ops_page_size"]
    values = []
    for name, default, top in (("page", 1, 10**9), ("per_page", size, MAX_PER_PAGE)):
        text = request.args.get(name, "").strip() or str(default)
        if not digits(text) or not 1 <= int(text) <= top:
            abort(400, f"{name} must be a number from 1 to {top}")
        values.append(int(text))
    return values[0], values[1]


def _page_links(number: int, size: int, total: int) -> dict[str, Any]:
    """The page's place and its neighbours, linked in the same form (page, JSON or CSV)."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}
    endpoint = request.endpoint or ""

    def link(n: int) -> str | None:
        return url_for(endpoint, **args, page=n) if 1 <= n and (n - 1) * size < total else None

    return {
        "number": number,
        "size": size,
        "total": total,
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1),
    }


def _visible_lists() -> list[str]:
    return runs.list_names(get_store().conn, access.viewer())


def _list_filter() -> str | None:
    name = request.args.get("list", "").strip() or None
    if name is not None and name not in _visible_lists():  # unknown, or not for this viewer
        abort(404, f"No list {name}.")
    return name


def _mark_abandoned() -> None:
    """As `listarchive runs` does: a run whose sync process is gone is not `running` (a write
    only when there is one; a store that cannot be written just leaves it for the next sync)."""
    try:
        runs.abandon_dead(get_writable_store().conn)
    except (sqlite3.Error, StoreError) as exc:
        logger.warning("runs left by dead processes not marked: %s", exc)


@bp.get("/runs")
@bp.get("/runs.json", endpoint="runs_json")
@bp.get("/runs.csv", endpoint="runs_csv")
@require_role("secretariat")
def runs_page() -> ResponseReturnValue:
    list_name = _list_filter()
    status = request.args.get("status", "").strip() or None
    if status is not None and status not in runs.STATUSES:
        abort(400, f"status must be one of {', '.join(runs.STATUSES)}")
    number, size = _paging()
    _mark_abandoned()
    conn = get_store().conn
    viewer = access.viewer()
    offset = (number - 1) * size
    report = runs.report(conn, list_name, size, status=status, offset=offset, viewer=viewer)
    total = runs.count_runs(conn, list_name, status=status, viewer=viewer)
    failing = [h for h in report["lists"] if h["consecutive_failures"]]
    data = {
        **report,
        "failing": sorted(failing, key=lambda h: (-h["consecutive_failures"], h["list"])),
        "filter": {"list": list_name, "status": status},
        "statuses": list(runs.STATUSES),
        "list_names": _visible_lists(),
        "page": _page_links(number, size, total),
        "links": {
            "json": url_for("ops.runs_json", **_args()),
            "csv": url_for("ops.runs_csv", **_args()),
        },
    }
    rows = [[r.get(c) for c in RUN_COLUMNS] for r in report["runs"]]
    return render("runs.html", data, table=CsvTable("runs.csv", RUN_COLUMNS, rows))


@bp.get("/runs/<int:run_id>")
@bp.get("/runs/<int:run_id>.json", endpoint="run_json")
@require_role("secretariat")
def run_page(run_id: int) -> ResponseReturnValue:
    _mark_abandoned()
    record = runs.get_run(get_store().conn, run_id, access.viewer())
    if record is None:
        abort(404, f"No run {run_id}.")
    run = record.as_dict()
    data = {
        "run": run,
        "links": {
            "json": url_for("ops.run_json", run_id=run_id),
            "list_runs": url_for("ops.runs_page", list=record.list_name),
        },
    }
    return render("run.html", data)


@bp.get("/quarantine")
@bp.get("/quarantine.json", endpoint="quarantine_json")
@bp.get("/quarantine.csv", endpoint="quarantine_csv")
@require_role("secretariat")
def quarantine_page() -> ResponseReturnValue:
    list_name = _list_filter()
    conn = get_store().conn
    viewer = access.viewer()
    csv_export = request.path.endswith(".csv")
    number, size = _paging()
    found = quarantine.items(
        conn,
        list_name,
        limit=None if csv_export else size,  # a CSV export has every row
        offset=0 if csv_export else (number - 1) * size,
        viewer=viewer,
    )
    total = quarantine.count(conn, list_name, viewer=viewer)
    data = {
        "items": [item.as_dict() for item in found],
        "filter": {"list": list_name},
        "list_names": _visible_lists(),
        "page": _page_links(number, size, total),
        "note": PREFIX_NOTE,
        "links": {
            "json": url_for("ops.quarantine_json", **_args()),
            "csv": url_for("ops.quarantine_csv", **_args()),
        },
    }
    rows = [[item.as_dict()[c] for c in QUARANTINE_COLUMNS] for item in found]
    table = CsvTable("quarantine.csv", QUARANTINE_COLUMNS, rows)
    return render("quarantine.html", data, table=table)


def _item_or_404(item_id: int) -> quarantine.QuarantineItem:
    item = quarantine.get(get_store().conn, item_id, access.viewer())
    if item is None:
        abort(404, f"No quarantined message {item_id}.")
    return item


@bp.get("/quarantine/<int:item_id>")
@bp.get("/quarantine/<int:item_id>.json", endpoint="quarantine_item_json")
@require_role("secretariat")
def quarantine_item(item_id: int) -> ResponseReturnValue:
    item = _item_or_404(item_id)
    limit = settings()["web.quarantine_view_bytes"]
    shown = quarantine.head(get_store().conn, item_id, limit)
    data = {
        "item": item.as_dict(),
        "text": quarantine.as_text(shown),
        "shown_bytes": len(shown),
        "truncated": item.size > len(shown),
        "note": PREFIX_NOTE,
        "links": {
            "json": url_for("ops.quarantine_item_json", item_id=item_id),
            "raw": url_for("ops.quarantine_raw", item_id=item_id),
            "list": url_for("ops.quarantine_page", list=item.list_name),
        },
    }
    return render("quarantine_item.html", data)


@bp.get("/quarantine/<int:item_id>/raw")
@require_role("secretariat")
def quarantine_raw(item_id: int) -> ResponseReturnValue:
    """The stored bytes, as a download the browser never renders or sniffs."""
    _item_or_404(item_id)
    response = Response(
        quarantine.raw(get_store().conn, item_id), mimetype="application/octet-stream"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="quarantine-{item_id}.eml"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
