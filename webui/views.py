"""One way to answer a page: `render(template, data)` gives the HTML page or its JSON twin from
the same dict, so both always carry the same facts.  Also the security headers every response
carries and the small template filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, render_template, request

CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def wants_json() -> bool:
    """JSON when the path ends with `.json`, is under `/api/`, or Accept prefers JSON."""
    path = request.path
    if path.endswith(".json") or path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render(template: str, data: dict[str, Any], status: int = 200) -> Response:
    """The page `template` rendered with `data`, or `data` as JSON when JSON is wanted."""
    if wants_json():
        response = jsonify(data)
    else:
        response = Response(render_template(template, **data), mimetype="text/html")
    response.status_code = status
    response.vary.add("Accept")
    return response


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def when(value: str | None, precision: str = "minute") -> str:
    """An ISO timestamp for people: `2003-08-21 23:00` (UTC), or `2003-08-21`."""
    if not value:
        return "—"
    text = value[:10] if precision == "day" else value[:16].replace("T", " ")
    return text


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)
    app.add_template_filter(when, "when")
