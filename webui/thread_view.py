"""The thread page's data: its messages in pages of `THREAD_PAGE` (`?page=N`), an outline of
every visible message (always whole: subjects, authors, dates, indented by depth, each linked to
its message's anchor on the page that holds it), the participants, and the previous and next
thread on the thread's (first) list by the date of its first visible message.

Everything is what the viewer may read: the messages come from `queries.thread_messages`
with the request's viewer, and the outline is built from those same messages only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import abort, request, url_for

from store import thread_queries
from store.queries import MessageDetail
from webui import access
from webui.extensions import get_store
from webui.obfuscate import mailbox, obfuscate_text
from webui.views import digits, iso

THREAD_PAGE = 50
"""Messages per thread page (the outline lists them all)."""
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|fwd?)\s*(?:\[\d+\])?\s*:\s*|\[[^\]]{1,60}\]\s*)+", re.IGNORECASE
)


def _page_arg(pages: int) -> int:
    raw = request.args.get("page", "1")
    if not digits(raw) or not 1 <= int(raw) <= max(pages, 1):
        abort(404 if digits(raw) else 400, f"page must be a number from 1 to {max(pages, 1)}")
    return int(raw)


def _bare_subject(subject: str) -> str:
    """`Re: [Twisted-Python] Re: Foo  bar` -> `foo bar`: reply prefixes and list tags off."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject).split()).casefold()


def _neighbour(thread_id: str | None) -> dict[str, Any] | None:
    if thread_id is None:
        return None
    info = thread_queries.get_thread(get_store().conn, thread_id, access.viewer())
    if info is None:
        return None
    return {
        "thread_id": thread_id,
        "subject": obfuscate_text(info.subject),
        "first_date": iso(info.first_date),
        "url": url_for("pages.thread", thread_id=thread_id),
    }


def thread_data(
    thread_id: str,
    view: str,
    messages: list[MessageDetail],
    info: thread_queries.ThreadSummary,
    message_dict: Callable[[MessageDetail, int | None], dict[str, Any]],
    participants: list[dict[str, Any]],
) -> dict[str, Any]:
    """The thread page's dict (HTML and JSON twin alike) for the visible `messages`."""
    top = min((m.depth or 0) for m in messages)
    nested = list(range(len(messages)))
    order = nested
    if view == "flat":
        order = sorted(
            nested, key=lambda i: (messages[i].date is None, messages[i].date, messages[i].key)
        )
    pages = (len(messages) + THREAD_PAGE - 1) // THREAD_PAGE
    page = _page_arg(pages)
    page_of = {messages[i].key: 1 + at // THREAD_PAGE for at, i in enumerate(order)}
    base = url_for("pages.thread", thread_id=thread_id)
    query = "?view=flat" if view == "flat" else ""

    def page_url(n: int) -> str:
        if n == 1:
            return base + query
        return f"{base}{query}{'&' if query else '?'}page={n}"

    shown = order[(page - 1) * THREAD_PAGE : page * THREAD_PAGE]
    items = []
    for i in shown:
        m = messages[i]
        item = message_dict(m, (m.depth or 0) - top)
        items.append({**item, "depth": 0} if view == "flat" else item)
    root_subject = _bare_subject(info.subject or messages[0].subject)
    outline = [
        {
            "key": m.key,
            "subject": obfuscate_text(m.subject),
            # the thread's own subject again (`Re: [list] ...`): the outline names the author
            "same_subject": at > 0 and _bare_subject(m.subject) == root_subject,
            "from": mailbox(m.from_name, m.from_addr),
            "date": iso(m.date),
            "depth": (m.depth or 0) - top,
            "page": page_of[m.key],
            "url": (page_url(page_of[m.key]) if page_of[m.key] != page else "") + f"#m-{m.key}",
        }
        for at, m in enumerate(messages)
    ]
    lists = sorted({name for m in messages for name in m.lists})
    first_list = next((n for m in messages for n in m.lists), None)
    before, after = (None, None)
    if first_list is not None:
        before, after = thread_queries.neighbour_threads(
            get_store().conn, thread_id, first_list, access.viewer()
        )
    return {
        "thread": {
            "thread_id": thread_id,
            "subject": obfuscate_text(info.subject or messages[0].subject),
            "first_date": iso(info.first_date),
            "last_date": iso(info.last_date),
            "message_count": len(messages),
            "lists": lists,
            "participants": participants,
            "url": base,
        },
        "view": view,
        "outline": outline,
        "page": page,
        "pages": pages,
        "per_page": THREAD_PAGE,
        "next_page": page_url(page + 1) if page < pages else None,
        "prev_page": page_url(page - 1) if page > 1 else None,
        "page_urls": [page_url(n) for n in range(1, pages + 1)],
        "list": first_list,
        "prev_thread": _neighbour(before),
        "next_thread": _neighbour(after),
        "messages": items,
    }
