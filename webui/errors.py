"""One error handler: known errors map to a status and a plain reason; nothing else leaks.

The answer is JSON (`{"error": {"status", "message"}}`) when the path ends with `.json`, is
under `/api/`, is `/healthz` or the request prefers JSON; otherwise the HTML page `error.html`.
An SQLite error that means the store is damaged or unusable (`store.faults`) is a 503 with
what is wrong and what to do, like every other store error.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from analytics.scope import ScopeError, UnknownScopeError
from search.base import SearchQueryError, SearchUnavailableError
from store import faults
from store.store import StoreError
from webui import extensions
from webui.views import wants_json

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
"""Always answered in JSON, errors included (monitors parse it)."""


def _respond(status: int, message: str) -> tuple[Response, int]:
    if wants_json() or request.path == HEALTH_PATH:
        return jsonify({"error": {"status": status, "message": message}}), status
    try:
        page = render_template("error.html", status=status, message=message)
    except Exception:  # a broken template must not turn an error page into a traceback
        logger.exception("error page could not be rendered")
        return Response(f"{status}: {message}\n", mimetype="text/plain"), status
    return Response(page, mimetype="text/html"), status


def public_message(exc: Exception) -> str:
    """What a visitor is told of a store or search error: the whole message, with the data
    directory's path cut down to the file's name (the full path is in the server log)."""
    text = str(exc)
    path = getattr(exc, "path", None)
    if isinstance(path, Path) and str(path) in text:
        text = text.replace(str(path), path.name)
    data_dir = str(extensions.settings().data_dir.resolve())
    return text.replace(data_dir + "/", "").replace(data_dir, "the data directory")


def handle(exc: Exception) -> tuple[Response, int]:
    if isinstance(exc, HTTPException):
        return _respond(exc.code or 500, exc.description or exc.name)
    if isinstance(exc, SearchQueryError):
        return _respond(400, str(exc))
    if isinstance(exc, ScopeError):  # an unknown list or community, or a bad date or period
        return _respond(404 if isinstance(exc, UnknownScopeError) else 400, str(exc))
    if isinstance(exc, sqlite3.Error):  # the store's SQLite: damaged or unusable is a 503
        found = faults.classify(exc, extensions.settings().store_path)
        if found is not None:
            exc = found
    if isinstance(exc, SearchUnavailableError | StoreError):
        logger.warning("service unavailable: %s", exc)
        return _respond(503, public_message(exc))
    logger.exception("unhandled error")
    return _respond(500, "internal error")


def init_app(app: Flask) -> None:
    app.register_error_handler(Exception, handle)
