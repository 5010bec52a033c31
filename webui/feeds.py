"""Atom 1.0 feeds (issue 13): a list's new threads (`/lists/<name>/feed.atom`), the messages of
a thread (`/threads/<id>/feed.atom`) and the results of a search (`/search.atom?q=...`).

They show what the page they belong to shows the same reader (`webui.access`, rule in
`store.visibility`): a private list or thread is a 404 for anonymous visitors, a thread is the
thread of its visible messages, and the search goes through the search page's own code path
(`search.reader`, its parameters and limits).  Addresses are obfuscated in authors and
summaries as on the pages.  Each feed holds at most `FEED_ENTRIES` entries, each summary at
most `SUMMARY_CHARS` characters of the body (cut in SQL) or the hit's snippet.

Links use `webui.urls.absolute_url` (never the `Host` header): absolute with `web.base_url`
set (or behind a trusted proxy that names the host), else site-relative, which a feed reader
resolves against the feed's own URL.  Entry and feed ids are those absolute URLs when
`web.base_url` is set, else `urn:listarchive:...` names that do not change with the host.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, request, url_for
from flask.typing import ResponseReturnValue

from search.base import SearchQueryError
from store import overview, queries, thread_queries
from store.queries import MessageDetail
from webui import access
from webui.extensions import get_store, settings
from webui.obfuscate import mailbox, obfuscate_text
from webui.search_pages import SearchParams, plain_snippet, reader_search
from webui.urls import absolute_url

bp = Blueprint("feeds", __name__)
access.init_blueprint(bp)

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
FEED_ENTRIES = 50
SUMMARY_CHARS = 500
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    path: str
    """The entry's page (site path)."""
    title: str
    updated: datetime | None
    author: str
    summary: str
    id_name: str
    """`kind:value`, for the `urn:listarchive:` id without `web.base_url`."""


@dataclass(slots=True)
class Feed:
    title: str
    path: str
    """The page the feed is of (rel=alternate)."""
    self_path: str
    id_name: str
    entries: list[Entry] = field(default_factory=list)


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (control characters, lone
    surrogates): mail holds any of them."""
    return _NOT_XML.sub("", text)


def bounded(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _id(path: str, name: str) -> str:
    if str(settings()["web.base_url"]):
        return absolute_url(path)
    return "urn:listarchive:" + quote(name, safe=":/@")


def _stamp(value: datetime | None) -> str:
    return (value or _EPOCH).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def atom(feed: Feed) -> bytes:
    """The feed as an Atom 1.0 document."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, "id", _id(feed.path, feed.id_name))
    _sub(root, "title", feed.title)
    updated = max((e.updated for e in feed.entries if e.updated), default=None)
    _sub(root, "updated", _stamp(updated))
    _sub(_sub(root, "author"), "name", "listarchive")
    _sub(root, "link", rel="alternate", type="text/html", href=absolute_url(feed.path))
    _sub(root, "link", rel="self", type=ATOM_TYPE, href=absolute_url(feed.self_path))
    _sub(root, "generator", "listarchive")
    for e in feed.entries:
        entry = _sub(root, "entry")
        _sub(entry, "id", _id(e.path, e.id_name))
        _sub(entry, "title", e.title or "(no subject)")
        _sub(entry, "updated", _stamp(e.updated))
        _sub(_sub(entry, "author"), "name", e.author or "(unknown sender)")
        _sub(entry, "link", rel="alternate", type="text/html", href=absolute_url(e.path))
        _sub(entry, "summary", bounded(e.summary), type="text")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _respond(feed: Feed) -> Response:
    response = Response(atom(feed), content_type=f"{ATOM_TYPE}; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _path(endpoint: str, **values: Any) -> str:
    """A path inside the app (without its mount point: `absolute_url` adds it)."""
    return inside(url_for(endpoint, **values))


def inside(path: str) -> str:
    root = request.script_root
    return path[len(root) :] if root and path.startswith(root) else path


def _who(m: MessageDetail) -> str:
    box = mailbox(m.from_name, m.from_addr)
    name, address = box["name"], box["address"]
    return f"{name} <{address}>" if name and address else name or address


def _message_entry(m: MessageDetail) -> Entry:
    return Entry(
        path=_path("pages.message", key=m.key),
        title=obfuscate_text(m.subject),
        updated=m.date,
        author=_who(m),
        summary=obfuscate_text(m.body),
        id_name=f"message:{m.key}",
    )


def _newest(messages: Sequence[MessageDetail]) -> list[MessageDetail]:
    ordered = sorted(messages, key=lambda m: (m.date is not None, m.date or _EPOCH, m.key))
    return list(reversed(ordered))[:FEED_ENTRIES]


# -- routes -----------------------------------------------------------------------------------


@bp.get("/lists/<name>/feed.atom")
def list_feed(name: str) -> ResponseReturnValue:
    conn = get_store().conn
    viewer = access.viewer()
    found = queries.find_list(conn, name, viewer)
    if found is None:
        abort(404, f"no list named {name!r}")
    rows = overview.list_threads(conn, found.id, viewer, newest_started=True, limit=FEED_ENTRIES)
    feed = Feed(
        title=f"{name}: new threads",
        path=_path("pages.list_page", name=name),
        self_path=_path("feeds.list_feed", name=name),
        id_name=f"list:{name}",
    )
    for row in rows:
        t = row.thread
        root = (
            queries.get_message(conn, t.root_key, viewer, max_body_chars=SUMMARY_CHARS)
            if t.root_key
            else None
        )
        feed.entries.append(
            Entry(
                path=_path("pages.thread", thread_id=t.thread_id),
                title=obfuscate_text(t.subject),
                updated=t.first_date,
                author=_who(root) if root else "",
                summary=obfuscate_text(root.body) if root else "",
                id_name=f"thread:{t.thread_id}",
            )
        )
    return _respond(feed)


@bp.get("/threads/<thread_id>/feed.atom")
def thread_feed(thread_id: str) -> ResponseReturnValue:
    conn = get_store().conn
    viewer = access.viewer()
    info = thread_queries.get_thread(conn, thread_id, viewer)
    messages = queries.thread_messages(conn, thread_id, viewer, max_body_chars=SUMMARY_CHARS)
    if info is None or not messages:
        abort(404, f"no thread {thread_id!r}")
    feed = Feed(
        title=obfuscate_text(info.subject or messages[0].subject) or "(no subject)",
        path=_path("pages.thread", thread_id=thread_id),
        self_path=_path("feeds.thread_feed", thread_id=thread_id),
        id_name=f"thread:{thread_id}",
        entries=[_message_entry(m) for m in _newest(messages)],
    )
    return _respond(feed)


@bp.get("/search.atom")
def search_feed() -> ResponseReturnValue:
    params = SearchParams.from_request()
    if not params.q and not params.lists:
        abort(400, "a search feed needs a query (q=) or a list (list=)")
    query = params.q or " ".join(f"list:{name}" for name in params.lists)
    try:
        result = reader_search().search(
            query, lists=params.lists, sort=params.sort, limit=FEED_ENTRIES
        )
    except SearchQueryError as exc:
        abort(400, str(exc))
    page_path = inside(params.url(page=1, cursor=None))
    feed = Feed(
        title=f"Search: {params.q or ', '.join(params.lists)}",
        path=page_path,
        self_path="/search.atom" + page_path.removeprefix("/search"),
        id_name="search:" + page_path.removeprefix("/search?"),
    )
    for hit in result.hits:
        name, address = obfuscate_text(hit.from_name), mailbox("", hit.from_addr)["address"]
        feed.entries.append(
            Entry(
                path=_path("pages.message", key=hit.key),
                title=obfuscate_text(hit.subject),
                updated=hit.date,
                author=f"{name} <{address}>" if name and address else name or address,
                summary=plain_snippet(hit.snippet),
                id_name=f"message:{hit.key}",
            )
        )
    return _respond(feed)
