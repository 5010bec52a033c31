"""Exports: mbox (mboxrd, the original stored bytes) of a thread, a list period or a search;
CSV of a search.  Every export streams: messages are read in batches while the response is
written, so memory does not grow with the size of the export.

mboxrd: each message gets its From_ line (the one its source had, stored with it; else one
rebuilt as `From <addr> <asctime of its date, UTC>`), every body
line matching `>*From ` gets one more `>`, and a blank line ends the message; `listarchive`'s
own mbox reader (and Python's `mailbox`, mutt, ...) read it back to the same bytes.
What is exported is what the request's viewer may read (`webui.access.viewer`, rule in
`store.visibility`): for anonymous visitors a private list or a thread with no public message is
a 404, exports never hold private messages and CSV rows never name private lists; a search
export naming a list the visitor may not see is the 400 of an unknown list (`search.reader`).
The stream runs after the request has ended, so the decision is taken during the request and
passed in.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import AnyStr
from urllib.parse import quote

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue

from search.base import Hit, SearchBackend, SearchResult
from search.factory import open_configured
from search.reader import ReaderSearch
from store import queries
from store.content import raw_bytes
from store.store import Store
from store.visibility import Visibility
from webui import access
from webui.extensions import get_store, settings
from webui.obfuscate import obfuscate_address, obfuscate_text
from webui.search_pages import SORTS, query_text
from webui.urls import absolute_url

bp = Blueprint("exports", __name__)
access.init_blueprint(bp)

BATCH = 200
"""Messages read per store query / search page while streaming."""
MBOX_TYPE = "application/mbox"
CSV_COLUMNS = ("id", "date", "lists", "from", "subject", "thread", "permalink")

_FROM_ESCAPE = re.compile(rb"^(>*From )", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the From_ line of an exported message needs."""

    key: str
    from_addr: str
    date: datetime | None


# -- mboxrd --------------------------------------------------------------------------------


def from_line(envelope: Envelope, original: str = "") -> bytes:
    """The message's original From_ line (`original`: stored without `From `, its bytes as
    Latin-1), or one rebuilt from its sender and date when it has none."""
    if original and "\n" not in original and "\r" not in original:
        try:
            return b"From " + original.encode("latin-1") + b"\n"
        except UnicodeEncodeError:
            pass
    addr = envelope.from_addr.strip()
    if not addr or re.search(r"\s", addr) or not addr.isascii():
        addr = "MAILER-DAEMON"
    stamp = envelope.date.astimezone(UTC).utctimetuple() if envelope.date else time.gmtime(0)
    return f"From {addr} {time.asctime(stamp)}\n".encode("ascii")


def mboxrd_entry(envelope: Envelope, raw: bytes, original: str = "") -> bytes:
    """One message of an mboxrd file: From_ line, escaped bytes, blank separator line."""
    body = _FROM_ESCAPE.sub(rb">\1", raw)
    if not body.endswith(b"\n"):
        body += b"\n"
    return from_line(envelope, original) + body + b"\n"


def _raw_and_from_lines(
    store: Store, keys: list[str], viewer: Visibility
) -> dict[str, tuple[bytes, str]]:
    """The raw bytes and From_ line of each of `keys` that `viewer` may read now (one
    statement for the batch: the removed keys are read once for it, not once a message)."""
    found: dict[str, tuple[bytes, str]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        marks = ",".join("?" * len(part))
        for key, content, body_bytes, unixfrom in store.conn.execute(
            "SELECT m.key, m.content, m.body_bytes, m.unixfrom FROM messages m "
            f"WHERE m.key IN ({marks}) AND {viewer.messages('m')}",
            part,
        ):
            found[str(key)] = (raw_bytes(content, body_bytes), str(unixfrom))
    return found


def mbox_stream(
    store: Store, batches: Iterator[list[Envelope]], viewer: Visibility
) -> Iterator[bytes]:
    """The export's bytes; closes `store` (opened for this stream alone) when done.  Every
    message's bytes are read only if `viewer` may read it then (whatever chose the keys: a
    search index out of step, a removal made while the stream runs: checked batch by batch)."""
    checked = viewer._replace(removals=True)  # removals read again per batch, not per request
    try:
        for batch in batches:
            found = _raw_and_from_lines(store, [e.key for e in batch], checked)
            chunk = [mboxrd_entry(e, *found[e.key]) for e in batch if e.key in found]
            if chunk:
                yield b"".join(chunk)
    finally:
        store.close()


def _stream_store() -> Store:
    """A read connection owned by one streaming response: it outlives the request, whose
    per-request connections are closed at teardown, so it must not be the request's."""
    return Store(settings().store_path, readonly=True)


def _download(body: Iterator[AnyStr], mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- store reads (keyset-paged) ------------------------------------------------------------


def _date(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _paged(
    conn: sqlite3.Connection, sql: str, params: tuple[object, ...]
) -> Iterator[list[Envelope]]:
    """Run `sql` (selecting sort key, id, key, from_addr, date; with `(a, b) > (?, ?)` and a
    LIMIT placeholder last) page by page, lazily."""
    after: tuple[object, object] = (-1, -1)
    while True:
        rows = conn.execute(sql, (*params, *after, BATCH)).fetchall()
        if not rows:
            return
        yield [Envelope(r[2], r[3], _date(r[4])) for r in rows]
        if len(rows) < BATCH:
            return
        after = (rows[-1][0], rows[-1][1])


def thread_batches(
    conn: sqlite3.Connection, thread_id: str, viewer: Visibility
) -> Iterator[list[Envelope]]:
    visible = viewer.messages("m")
    return _paged(
        conn,
        "SELECT coalesce(m.thread_pos, 0), m.id, m.key, m.from_addr, m.date FROM messages m "
        f"WHERE m.thread_id = ? AND {visible} AND (coalesce(m.thread_pos, 0), m.id) > (?, ?) "
        "ORDER BY 1, 2 LIMIT ?",
        (thread_id,),
    )


def period_batches(
    conn: sqlite3.Connection, list_id: int, origins: tuple[str, ...], viewer: Visibility
) -> Iterator[list[Envelope]]:
    """A period's (visible) messages volume by volume, each in its archive order."""
    for origin in sorted(origins):
        yield from _paged(
            conn,
            "SELECT ms.position, m.id, m.key, m.from_addr, m.date "
            "FROM memberships ms JOIN messages m ON m.id = ms.message "
            f"WHERE ms.list = ? AND ms.origin = ? AND {viewer.messages('m')} "
            "AND (ms.position, m.id) > (?, ?) ORDER BY 1, 2 LIMIT ?",
            (list_id, origin),
        )


@bp.get("/threads/<thread_id>.mbox")
def thread_mbox(thread_id: str) -> ResponseReturnValue:
    conn = get_store().conn
    viewer = access.viewer()
    if not conn.execute(
        f"SELECT 1 FROM messages m WHERE m.thread_id = ? AND {viewer.messages('m')} LIMIT 1",
        (thread_id,),
    ).fetchone():
        abort(404, f"no thread {thread_id!r}")
    store = _stream_store()
    body = mbox_stream(store, thread_batches(store.conn, thread_id, viewer), viewer)
    return _download(body, MBOX_TYPE, f"thread-{thread_id}.mbox")


@bp.get("/lists/<name>/<period>.mbox")
def period_mbox(name: str, period: str) -> ResponseReturnValue:
    conn = get_store().conn
    viewer = access.viewer()
    summary = queries.find_list(conn, name, viewer)
    if summary is None:
        abort(404, f"no list {name!r}")
    found = next((p for p in queries.list_periods(conn, summary.id) if p.name == period), None)
    if found is None:
        abort(404, f"list {name!r} has no period {period!r}")
    store = _stream_store()
    body = mbox_stream(store, period_batches(store.conn, summary.id, found.origins, viewer), viewer)
    return _download(body, MBOX_TYPE, f"{name}-{period}.mbox")


# -- search exports ------------------------------------------------------------------------


def _search_pages() -> Iterator[list[Hit]]:
    """Every match of the request's search, page by page through the backend's cursor.

    The first page is run before the response starts, so a bad query is still a 400; whether
    private messages are included is decided then too (the later pages run after the request)."""
    query = query_text()
    lists = tuple(v for v in request.args.getlist("list") if v)
    if not query and not lists:
        abort(400, "the q parameter is required")
    sort = request.args.get("sort") or "relevance"
    if sort not in SORTS:
        abort(400, f"sort must be one of {', '.join(SORTS)}")

    viewer = access.viewer()
    backend = _stream_search()
    store = _stream_store()  # lists and person: filters resolve through it, page after page
    search = ReaderSearch(backend, store.conn, viewer)

    def page(cursor: str | None) -> SearchResult:
        return search.search(
            query or " ".join(f"list:{n}" for n in lists),
            lists=lists,
            sort=sort,
            limit=BATCH,
            cursor=cursor,
        )

    def close() -> None:
        backend.close()
        store.close()

    try:
        first = page(None)
    except BaseException:
        close()
        raise

    def pages() -> Iterator[list[Hit]]:
        try:
            result = first
            yield result.hits
            while result.next_cursor and result.hits:
                result = page(result.next_cursor)
                yield result.hits
        finally:
            close()

    return pages()


def _stream_search() -> SearchBackend:
    """A search backend owned by one streaming response (see `_stream_store`)."""
    return open_configured(settings())


@bp.get("/search.mbox")
def search_mbox() -> ResponseReturnValue:
    pages = _search_pages()
    viewer = access.viewer()  # taken in the request: the pages after the first run after it
    batches = ([Envelope(h.key, h.from_addr, h.date) for h in hits] for hits in pages)
    return _download(mbox_stream(_stream_store(), batches, viewer), MBOX_TYPE, "search.mbox")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    return f"'{text}" if text.startswith(_FORMULA) else text


def csv_rows(
    pages: Iterator[list[Hit]], root: str, hidden: frozenset[str] = frozenset()
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for hits in pages:
        for hit in hits:
            sender = obfuscate_address(hit.from_addr)
            name = obfuscate_text(hit.from_name)
            writer.writerow(
                (
                    hit.key,
                    hit.date.isoformat() if hit.date else "",
                    " ".join(n for n in hit.lists if n not in hidden),
                    _cell(f"{name} <{sender}>" if name else sender),
                    _cell(obfuscate_text(hit.subject)),
                    hit.thread_id,
                    f"{root}/messages/{quote(hit.key, safe='')}",
                )
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    rest = buffer.getvalue()
    if rest:
        yield rest


@bp.get("/search.csv")
def search_csv() -> ResponseReturnValue:
    root = absolute_url("/").rstrip("/")  # web.base_url or a trusted proxy's, never Host
    # the names to hide are looked up now: the stream runs after the request's teardown
    hidden = access.hidden_lists()
    return _download(csv_rows(_search_pages(), root, hidden), "text/csv", "search.csv")
