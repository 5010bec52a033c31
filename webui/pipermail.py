"""Old pipermail links keep working: 301 redirects to our permalinks and period pages.

`/pipermail/<list>/<period>/<NNNNNN>.html` -> `/messages/<key>` (from the article map that
`listarchive pipermail-map` builds); the period's index pages (`/`, `date.html`,
`thread.html`, `subject.html`, `author.html`, `index.html`) -> `/lists/<name>/<period>/`; the
list's own index -> `/lists/<name>/`.  `<list>` is the list's name on the old host: the last
path segment of a pipermail list's archive URL.  A period not yet mapped sends article links to
its period page; an article the map does not know is a 404, as is anything of a private list
for anonymous visitors (`webui.access.viewer`; logged-in accounts are redirected, and those answers
are `Cache-Control: private, no-store`, so no cache keeps the 301).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, redirect
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from store import pipermail_map
from store.records import ListInfo
from webui import access
from webui.extensions import get_store

bp = Blueprint("pipermail", __name__)
access.init_blueprint(bp)

PERIOD_PAGES = frozenset({"date.html", "thread.html", "subject.html", "author.html", "index.html"})
_ARTICLE = re.compile(r"^(\d{1,9})\.html$")


def _list(old_name: str) -> ListInfo:
    info = pipermail_map.find_list(get_store().lists(), old_name)
    if info is None or not access.viewer().shows_list(info.name):
        raise NotFound(f"no archived list {old_name!r}")
    return info


def _period(info: ListInfo, period: str) -> str:
    if not pipermail_map.has_period(get_store().conn, info.id, period):
        raise NotFound(f"no period {period!r} in list {info.name}")
    return period


def _list_url(info: ListInfo) -> str:
    return f"/lists/{quote(info.name, safe='')}/"


def _period_url(info: ListInfo, period: str) -> str:
    return f"{_list_url(info)}{quote(period, safe='')}/"


@bp.get("/pipermail/<old_name>/")
@bp.get("/pipermail/<old_name>/index.html")
def list_index(old_name: str) -> ResponseReturnValue:
    return redirect(_list_url(_list(old_name)), 301)


@bp.get("/pipermail/<old_name>/<period>/")
def period_index(old_name: str, period: str) -> ResponseReturnValue:
    info = _list(old_name)
    return redirect(_period_url(info, _period(info, period)), 301)


@bp.get("/pipermail/<old_name>/<period>/<page>")
def period_page(old_name: str, period: str, page: str) -> ResponseReturnValue:
    info = _list(old_name)
    article = _ARTICLE.match(page)
    if page not in PERIOD_PAGES and article is None:
        raise NotFound(f"no page {page!r} in the old archive")
    period = _period(info, period)
    if article is None:
        return redirect(_period_url(info, period), 301)
    conn = get_store().conn
    key = pipermail_map.article_key(conn, info.id, period, int(article.group(1)))
    if key is not None:
        return redirect(f"/messages/{quote(key, safe='')}", 301)
    if not pipermail_map.period_is_mapped(conn, info.id, period):
        return redirect(_period_url(info, period), 301)
    raise NotFound(f"no message {page} in {info.name} {period}")
