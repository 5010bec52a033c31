"""One error handler: known errors map to a status and a plain reason; nothing else leaks."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from search.base import SearchQueryError, SearchUnavailableError
from store.store import StoreError

logger = logging.getLogger(__name__)


def _json(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"status": status, "message": message}}), status


def handle(exc: Exception) -> tuple[Response, int]:
    if isinstance(exc, HTTPException):
        return _json(exc.code or 500, exc.description or exc.name)
    if isinstance(exc, SearchQueryError):
        return _json(400, str(exc))
    if isinstance(exc, SearchUnavailableError | StoreError):
        logger.warning("service unavailable: %s", exc)
        return _json(503, str(exc))
    logger.exception("unhandled error")
    return _json(500, "internal error")


def init_app(app: Flask) -> None:
    app.register_error_handler(Exception, handle)
