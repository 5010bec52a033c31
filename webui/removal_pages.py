"""Removals (secretariat): hide a message or a whole thread from every reader and every later
sync, the record of removals with undo (`store.removals` holds the rule and the tombstones).

The actions are POST forms carrying the CSRF token (the message and thread pages show them to
the secretariat), recorded as `web:<username>` with the reason given; they answer a redirect
to `/removals` (HTML) or the removal (JSON clients sending `Accept: application/json`).  The
search index is updated at once (the documents deleted, or indexed again on undo); an index
found out of step is not rebuilt inside the request (minutes at a million messages): the
answer's `index_error` and the log say so, and the next sync or `listarchive reindex` rebuilds
it.  A removed message, thread or source answers 404 to everyone, like one that never existed:
no page tells a removed message from an unknown key.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from search import indexer
from search.base import SearchError
from store import removals
from store.removals import Removal, RemovalError, UnknownTargetError
from webui.auth import current_user, require_role
from webui.extensions import get_search, get_store, get_writable_store, settings
from webui.views import CsvTable, render, wants_json

logger = logging.getLogger(__name__)

bp = Blueprint("removals", __name__)

REASON_CHARS = 2000
"""Longest reason kept (the rest is cut)."""


def _actor() -> str:
    user = current_user()
    return f"web:{user.username}" if user else "web"


def _subjects(conn: sqlite3.Connection, keys: tuple[str, ...], limit: int = 5) -> list[str]:
    """The subjects of a removal's first messages (blank once purged)."""
    wanted = list(keys[:limit])
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    rows = conn.execute(
        f"SELECT subject FROM messages WHERE key IN ({marks}) ORDER BY date, key", wanted
    ).fetchall()
    return [str(r[0]) for r in rows]


def _removal_dict(conn: sqlite3.Connection, removal: Removal) -> dict[str, Any]:
    return {
        **removal.as_dict(),
        "subjects": _subjects(conn, removal.keys),
        "undo_url": (
            url_for("removals.undo", removal_id=removal.id)
            if removal.active and not removal.purged
            else None
        ),
    }


@bp.get("/removals")
@bp.get("/removals.json", endpoint="removals_json")
@bp.get("/removals.csv", endpoint="removals_csv")
@require_role("secretariat")
def removals_page() -> ResponseReturnValue:
    conn = get_store().conn
    found = removals.list_removals(conn)
    data = {"removals": [_removal_dict(conn, r) for r in found]}
    header = [
        "id",
        "created_at",
        "actor",
        "kind",
        "target",
        "reason",
        "messages",
        "purged",
        "active",
        "undone_at",
        "undone_by",
    ]
    rows = [
        [
            r.id,
            r.created_at,
            r.actor,
            r.kind,
            r.target,
            r.reason,
            " ".join(r.keys),
            r.purged,
            r.active,
            r.undone_at or "",
            r.undone_by or "",
        ]
        for r in found
    ]
    return render("removals.html", data, table=CsvTable("removals.csv", header, rows))


# -- writes ------------------------------------------------------------------------------------


def _update_index(keys: tuple[str, ...]) -> str:
    """The search documents of `keys` brought up to date now (catch-up would do it later);
    never a whole rebuild (`indexer.refresh`, `may_rebuild`)."""
    try:
        config = settings()
        indexer.refresh(
            get_writable_store(),
            get_search(),
            keys,
            batch=config["sync.index_batch"],
            page_bytes=config["sync.index_page_bytes"],
            may_rebuild=False,
        )
    except SearchError as exc:
        logger.warning("search index not updated after a removal: %s", exc)
        return str(exc)
    return ""


def _done(removal: Removal, index_error: str) -> ResponseReturnValue:
    if wants_json():
        conn = get_writable_store().conn
        return jsonify({**_removal_dict(conn, removal), "index_error": index_error})
    return redirect(url_for("removals.removals_page"), 303)


def _remove(kind: str, target: str, keys: list[str]) -> ResponseReturnValue:
    reason = request.form.get("reason", "").strip()[:REASON_CHARS]
    purge = request.form.get("purge") == "1"
    if purge and request.form.get("confirm_purge") != "1":
        abort(400, "a purge cannot be undone: send confirm_purge=1 with purge=1")
    try:
        removal = removals.remove(
            get_writable_store().conn,
            kind,
            target,
            keys,
            reason=reason,
            actor=_actor(),
            purge=purge,
        )
    except RemovalError as exc:
        abort(409, str(exc))
    return _done(removal, _update_index(removal.keys))


@bp.post("/messages/<key>/remove")
@require_role("secretariat")
def remove_message(key: str) -> ResponseReturnValue:
    """Remove one message, or its whole thread with `scope=thread`."""
    conn = get_writable_store().conn
    try:
        keys = removals.keys_for_message(conn, key)
        if request.form.get("scope") == "thread":
            thread_id = removals.thread_of(conn, key)
            return _remove(removals.THREAD, thread_id, removals.keys_for_thread(conn, thread_id))
    except UnknownTargetError as exc:
        abort(404, str(exc))
    except RemovalError as exc:
        abort(409, str(exc))
    return _remove(removals.MESSAGE, key, keys)


@bp.post("/threads/<thread_id>/remove")
@require_role("secretariat")
def remove_thread(thread_id: str) -> ResponseReturnValue:
    try:
        keys = removals.keys_for_thread(get_writable_store().conn, thread_id)
    except UnknownTargetError as exc:
        abort(404, str(exc))
    return _remove(removals.THREAD, thread_id, keys)


@bp.post("/removals/<int:removal_id>/undo")
@require_role("secretariat")
def undo(removal_id: int) -> ResponseReturnValue:
    try:
        removal = removals.undo(get_writable_store().conn, removal_id, _actor())
    except UnknownTargetError as exc:
        abort(404, str(exc))
    except RemovalError as exc:
        abort(409, str(exc))
    return _done(removal, _update_index(removal.keys))
