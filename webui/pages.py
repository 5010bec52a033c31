"""The reading pages: home, list, period, thread, message, message source.

Each view builds one dict and hands it to `render`, which answers HTML or the JSON twin
(`.json` suffix or `Accept: application/json`).  What is shown is what the request's viewer
may read (`webui.access.viewer`, rule in `store.visibility`): private lists and messages for
logged-in accounts only (anonymous visitors get a 404), and a thread seen without private access
is the thread of its visible messages.  Bodies longer than `web.max_body_chars` are cut (in
SQL) and say so, with a link to the full source.  Addresses are obfuscated in headers and
bodies for everyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from flask.typing import ResponseReturnValue

from store import communities, overview, queries, reader, thread_queries
from store.queries import MessageDetail, MessageSummary
from store.store import Store
from store.thread_queries import ThreadSummary
from webui import access, attachments, reply, thread_view
from webui import overview as shown
from webui.body import split_body
from webui.extensions import get_store, settings
from webui.obfuscate import mailbox, obfuscate_text
from webui.views import iso, render

bp = Blueprint("pages", __name__)
access.init_blueprint(bp)

RECENT_THREADS = 20
OVERVIEW_THREADS = 10
PERIOD_THREADS = 200
VIEWS = ("nested", "flat")


# -- dict builders (shared by HTML and JSON) --------------------------------------------------


def _thread_link(summary: ThreadSummary) -> dict[str, Any]:
    return {
        "thread_id": summary.thread_id,
        "subject": obfuscate_text(summary.subject),
        "first_date": iso(summary.first_date),
        "last_date": iso(summary.last_date),
        "message_count": summary.message_count,
        "url": url_for("pages.thread", thread_id=summary.thread_id),
    }


def _summary(message: MessageSummary) -> dict[str, Any]:
    return {
        "key": message.key,
        "subject": obfuscate_text(message.subject),
        "from": mailbox(message.from_name, message.from_addr),
        "date": iso(message.date),
        "thread_id": message.thread_id,
        "url": url_for("pages.message", key=message.key),
        "thread_url": (
            url_for("pages.thread", thread_id=message.thread_id) if message.thread_id else None
        ),
    }


def _attachment(key: str, n: int, a: queries.AttachmentInfo, archives: list[str]) -> dict[str, Any]:
    """One attachment: a MIME part downloads from here; a part pipermail scrubbed links to
    the archive's copy, only on the origin of one of the message's lists' archives."""
    if a.scrubbed_url:
        url = attachments.archive_link(a.scrubbed_url, archives)
    else:
        url = url_for("attachments.download", key=key, n=n)
    return {
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "url": url,
        "scrubbed": bool(a.scrubbed_url),
    }


def _reply_url(m: MessageDetail) -> str | None:
    conn = get_store().conn
    addresses = thread_queries.list_addresses(conn, list(m.lists))
    address = next((addresses[n] for n in m.lists if n in addresses), "")
    context = thread_queries.reply_context(conn, m.key)
    if not address or context is None:
        return None
    return reply.reply_url(address, m.subject, context.message_id, context.references)


def _max_body() -> int:
    return int(settings()["web.max_body_chars"])


def _message(m: MessageDetail, depth: int | None = None) -> dict[str, Any]:
    body = obfuscate_text(m.body)
    scrubbed = any(a.scrubbed_url for a in m.attachments)
    archives = attachments.list_archives(m.lists) if scrubbed else []
    return {
        "key": m.key,
        "message_id": obfuscate_text(m.message_id),
        "subject": obfuscate_text(m.subject),
        "from": mailbox(m.from_name, m.from_addr),
        "to": [mailbox(n, a) for n, a in m.to],
        "cc": [mailbox(n, a) for n, a in m.cc],
        "date": iso(m.date),
        "date_source": m.date_source,
        "lists": list(m.lists),
        "thread_id": m.thread_id,
        "parent_key": m.parent_key,
        "depth": depth,
        "is_html_only": m.is_html_only,
        "attachments": [_attachment(m.key, n, a, archives) for n, a in enumerate(m.attachments)],
        "reply_url": _reply_url(m),
        "body": body,
        # a cut body's end is not its end: no signature is looked for in it
        "blocks": split_body(body, signature=not m.body_truncated),
        "body_truncated": m.body_truncated,
        "body_length": m.body_length,
        "raw_size": m.raw_size,
        "url": url_for("pages.message", key=m.key),
        "source_url": url_for("pages.source", key=m.key),
        "thread_url": url_for("pages.thread", thread_id=m.thread_id) if m.thread_id else None,
    }


def _list_dict(summary: queries.ListSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "community": summary.community,
        "communities": list(summary.communities),
        "messages": summary.messages,
        "first_date": iso(summary.first_date),
        "last_date": iso(summary.last_date),
        "url": url_for("pages.list_page", name=summary.name),
    }


def _participants(messages: list[MessageDetail]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for m in sorted(messages, key=lambda m: (m.date is None, m.date)):
        who = m.from_addr.lower() or m.from_name
        if who not in seen:
            seen[who] = {**mailbox(m.from_name, m.from_addr), "messages": 0}
        seen[who]["messages"] += 1
    return list(seen.values())


def _find_list(name: str) -> queries.ListSummary:
    found = queries.find_list(get_store().conn, name, access.viewer())
    if found is None:
        abort(404, f"no list named {name!r}")
    return found


def _view() -> str:
    view = request.args.get("view", "nested")
    if view not in VIEWS:
        abort(400, f"view must be one of {', '.join(VIEWS)}")
    return view


# -- routes -----------------------------------------------------------------------------------


@bp.get("/")
@bp.get("/index.json", endpoint="home_json")
def home() -> ResponseReturnValue:
    conn = get_store().conn
    viewer = access.viewer()
    lists = queries.list_summaries(conn, viewer)
    visible = {s.name for s in lists}
    groups = []
    for community in communities.all_communities(conn):
        members = [n for n in community.lists if n in visible]
        if members:
            groups.append(
                {
                    "name": community.name,
                    "cutover": community.cutover,
                    "closed": community.closed,
                    "lists": members,
                }
            )
    recent = thread_queries.recent_threads(conn, viewer, limit=RECENT_THREADS)
    monthly = overview.monthly_counts(conn, viewer)
    data = {
        "communities": groups,
        "lists": [
            {**_list_dict(s), "sparkline": shown.sparkline(monthly.get(s.name))} for s in lists
        ],
        "recent_threads": [_thread_link(t) for t in recent],
    }
    return render("home.html", data)


@bp.get("/lists/<name>/")
@bp.get("/lists/<name>.json", endpoint="list_json")
def list_page(name: str) -> ResponseReturnValue:
    summary = _find_list(name)
    sort = shown.sort_arg("activity")
    conn = get_store().conn
    viewer = access.viewer()
    periods = queries.list_periods(conn, summary.id)
    since = overview.active_since(summary.last_date)
    data = {
        "list": _list_dict(summary),
        "sort": sort,
        "sorts": shown.sort_links("pages.list_page", sort, name=name),
        "active_since": iso(since),
        "newest_threads": shown.thread_rows(
            overview.list_threads(
                conn, summary.id, viewer, newest_started=True, limit=OVERVIEW_THREADS
            )
        ),
        "active_threads": shown.thread_rows(
            overview.list_threads(
                conn, summary.id, viewer, since=since, sort=sort, limit=OVERVIEW_THREADS
            )
        ),
        "years": shown.years(name, periods),
        "periods": [
            {
                "name": p.name,
                "messages": p.messages,
                "first_date": iso(p.first_date),
                "last_date": iso(p.last_date),
                "url": url_for("pages.period", name=name, period=p.name),
            }
            for p in periods
        ],
    }
    return render("list.html", data)


@bp.get("/lists/<name>/<period>/")
@bp.get("/lists/<name>/<period>.json", endpoint="period_json")
def period(name: str, period: str) -> ResponseReturnValue:
    summary = _find_list(name)
    sort = shown.sort_arg("date")
    conn = get_store().conn
    periods = queries.list_periods(conn, summary.id)
    index = next((i for i, p in enumerate(periods) if p.name == period), None)
    if index is None:
        abort(404, f"list {name!r} has no period {period!r}")
    found = periods[index]
    messages = queries.period_messages(conn, summary.id, found.origins, access.viewer())

    def link(i: int) -> dict[str, str] | None:
        if 0 <= i < len(periods):
            return {
                "name": periods[i].name,
                "url": url_for("pages.period", name=name, period=periods[i].name),
            }
        return None

    data = {
        "list": _list_dict(summary),
        "period": {
            "name": found.name,
            "messages": found.messages,
            "first_date": iso(found.first_date),
            "last_date": iso(found.last_date),
        },
        "newer": link(index - 1),
        "older": link(index + 1),
        "sort": sort,
        "sorts": shown.sort_links("pages.period", sort, name=name, period=period),
        "threads": shown.thread_rows(
            overview.list_threads(
                conn,
                summary.id,
                access.viewer(),
                origins=found.origins,
                sort=sort,
                limit=PERIOD_THREADS,
            )
        ),
        "messages": [_summary(m) for m in messages],
    }
    return render("period.html", data)


@bp.get("/threads/<thread_id>")
@bp.get("/threads/<thread_id>.json", endpoint="thread_json")
def thread(thread_id: str) -> ResponseReturnValue:
    view = _view()
    conn = get_store().conn
    viewer = access.viewer()
    info = thread_queries.get_thread(conn, thread_id, viewer)
    messages = queries.thread_messages(conn, thread_id, viewer, max_body_chars=_max_body())
    if info is None or not messages:
        abort(404, f"no thread {thread_id!r}")
    data = thread_view.thread_data(
        thread_id, view, messages, info, _message, _participants(messages)
    )
    return render("thread.html", data)


@bp.get("/messages/<key>")
@bp.get("/messages/<key>.json", endpoint="message_json")
def message(key: str) -> ResponseReturnValue:
    conn = get_store().conn
    viewer = access.viewer()
    found = queries.get_message(conn, key, viewer, max_body_chars=_max_body())
    if found is None:
        abort(404, f"no message {key!r}")
    previous: dict[str, Any] | None = None
    following: dict[str, Any] | None = None
    thread_info: dict[str, Any] | None = None
    if found.thread_id:
        siblings = queries.thread_messages(conn, found.thread_id, viewer, max_body_chars=0)
        keys = [m.key for m in siblings]
        at = keys.index(found.key) if found.key in keys else -1
        if at > 0:
            previous = _neighbour(siblings[at - 1])
        if 0 <= at < len(siblings) - 1:
            following = _neighbour(siblings[at + 1])
        info = thread_queries.get_thread(conn, found.thread_id, viewer)
        thread_info = {
            "thread_id": found.thread_id,
            "subject": obfuscate_text(info.subject if info else found.subject),
            "message_count": len(siblings),
            "url": url_for("pages.thread", thread_id=found.thread_id),
        }
    data = {
        "message": _message(found),
        "thread": thread_info,
        "prev": previous,
        "next": following,
    }
    return render("message.html", data)


def _neighbour(m: MessageDetail) -> dict[str, Any]:
    return {
        "key": m.key,
        "subject": obfuscate_text(m.subject),
        "from": mailbox(m.from_name, m.from_addr),
        "url": url_for("pages.message", key=m.key),
    }


@bp.get("/messages/<key>/source")
def source(key: str) -> ResponseReturnValue:
    """The original bytes, streamed from the store (a huge message is never in memory whole)."""
    store = get_store()
    found = queries.get_message(store.conn, key, access.viewer(), max_body_chars=0)
    if found is None:
        abort(404, f"no message {key!r}")
    # the stream outlives the request's store connection (closed at teardown): its own one
    stream = Store(settings().store_path, readonly=True)

    def body() -> Iterator[bytes]:
        try:
            yield from reader.raw_chunks(stream.conn, key)
        finally:
            stream.close()

    response = Response(body(), content_type="text/plain; charset=utf-8")
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
