"""One way to answer a page: `render(template, data)` gives the HTML page or its JSON twin from
the same dict, so both always carry the same facts (and, with `table=CsvTable(...)`, its `.csv`
export).  Also the security headers every response
carries and the small template filters."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request

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


def wants_csv() -> bool:
    """CSV when the path ends with `.csv` (a page's CSV export)."""
    return request.path.endswith(".csv")


@dataclass(frozen=True)
class CsvTable:
    """A page's numbers as a CSV download: `render(..., table=CsvTable(...))` answers the
    page's `.csv` path with it."""

    filename: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def csv_cell(value: object) -> object:
    """A cell as written: numbers as they are, `None` empty, and text that a spreadsheet
    would run as a formula (starting with = + - @, tab or CR) behind a single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_response(table: CsvTable) -> Response:
    """`table` as a `text/csv` attachment (built in full before the store is closed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in table.header])
    writer.writerows([csv_cell(v) for v in row] for row in table.rows)
    name = _FILENAME_UNSAFE.sub("-", table.filename).strip(".-") or "export"
    if not name.endswith(".csv"):
        name += ".csv"
    response = Response(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def render(
    template: str,
    data: dict[str, Any],
    status: int = 200,
    *,
    table: CsvTable | None = None,
    fill: Callable[[str], str | bytes] | None = None,
) -> Response:
    """The page `template` rendered with `data`, or `data` as JSON when JSON is wanted, or
    `table` as CSV when the path ends with `.csv` (404 for a page without a table).
    `fill(html)`: the page's HTML as sent, text or UTF-8 bytes (a large part put in after
    rendering, not copied through the template: `webui.merge_suggestions.listing`)."""
    if wants_csv():
        if table is None:
            abort(404, "This page has no CSV export.")
        response = csv_response(table)
    elif wants_json():
        response = jsonify(data)
    else:
        html = render_template(template, **data)
        response = Response(fill(html) if fill else html, mimetype="text/html")
    response.status_code = status
    response.vary.add("Accept")
    return response


def digits(text: str) -> bool:
    """`text` is a whole number as `int()` reads it and as written: ASCII digits, at most 18
    of them.  `str.isdigit()` alone lets "²" through (int() refuses it: a 500) and reads "٣"
    as 3, and int() refuses more than 4,300 digits."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def when(value: str | None, precision: str = "minute") -> str:
    """An ISO timestamp for people: `2003-08-21 23:00` (UTC), or `2003-08-21`."""
    if not value:
        return "—"
    text = value[:10] if precision == "day" else value[:16].replace("T", " ")
    return text


def _security_headers(response: Response) -> Response:
    """The headers every response carries; a view's own stricter policy (an attachment's
    `Content-Security-Policy: sandbox`) is kept."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)
    app.add_template_filter(when, "when")
