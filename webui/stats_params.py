"""What every statistics page shares: its query parameters, the scope and frame they select, the
scope form's choices, links to the page's twins, and turning metric rows into page data and
CSV tables.

Query parameters (all optional): `list` (repeatable), `community`, `start` and `end` (inclusive
days, YYYY-MM-DD, UTC), `period` (month, quarter or year), `table` (which table the `.csv` twin
exports), `limit` (rows of each ranking on the page and in JSON; the CSV has every row),
`bots` (`exclude`, the default: posts by persons marked as bots are not counted, or
`include`) and, where they apply, `lapse_days` and `horizon`.  A malformed value answers 400
and an unknown (or invisible) list or community 404, through the one error handler
(`ScopeError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import request, url_for

from analytics import periods
from analytics.frame import Frame, load_frame
from analytics.scope import Scope, ScopeError, parse_day, resolve_scope
from webui.access import sees_private
from webui.extensions import get_store
from webui.obfuscate import obfuscate_text
from webui.views import CsvTable

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Params:
    lists: tuple[str, ...]
    community: str | None
    start: date | None
    end: date | None
    period: str
    table: str
    limit: int
    include_bots: bool = False


def integer(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high] (400 otherwise)."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ScopeError(f"{name} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise ScopeError(f"{name} must be between {low} and {high}")
    return value


def params(tables: Sequence[str], default_limit: int = DEFAULT_LIMIT) -> Params:
    """The page's query parameters; `tables` are its CSV tables, the first the default."""
    args = request.args
    period = args.get("period", "").strip() or "month"
    if period not in periods.PERIODS:
        raise ScopeError(f"period must be one of {', '.join(periods.PERIODS)}, not {period!r}")
    table = args.get("table", "").strip() or tables[0]
    if table not in tables:
        raise ScopeError(f"table must be one of {', '.join(tables)}, not {table!r}")
    start = parse_day(args.get("start"), "start")
    end = parse_day(args.get("end"), "end")
    if start and end and end < start:
        raise ScopeError(f"the end ({end}) is before the start ({start})")
    return Params(
        lists=tuple(dict.fromkeys(n.strip() for n in args.getlist("list") if n.strip())),
        community=args.get("community", "").strip() or None,
        start=start,
        end=end,
        period=period,
        table=table,
        limit=integer("limit", default_limit, 1, MAX_LIMIT),
        include_bots=include_bots(),
    )


BOTS = ("exclude", "include")


def include_bots(default: bool = False) -> bool:
    """The `bots` parameter: `include` counts the posts of persons marked as bots,
    `exclude` leaves them out; without it, `default` (bots left out)."""
    text = request.args.get("bots", "").strip()
    if not text:
        return default
    if text not in BOTS:
        raise ScopeError(f"bots must be one of {', '.join(BOTS)}, not {text!r}")
    return text == "include"


def bots_toggle(included: bool) -> str:
    """This page (HTML, also from its twins) with bots the other way round (the rest of the
    query kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("bots", "table")]
    args.append(("bots", "exclude" if included else "include"))
    page = request.path.removesuffix(".json").removesuffix(".csv")
    return f"{page}?{urlencode(args)}"


def wants_all_rows() -> bool:
    """A `.csv` export has every row (the page and JSON show `limit`)."""
    return request.path.endswith(".csv")


def include_private() -> bool:
    """Private lists count only for logged-in users (the site-wide rule: `webui.access`)."""
    return sees_private()


def scope_of(found: Params) -> Scope:
    return resolve_scope(
        get_store().conn,
        lists=found.lists,
        community=found.community,
        start=found.start,
        end=found.end,
        include_private=include_private(),
        include_bots=found.include_bots,
    )


def frame_of(scope: Scope) -> Frame:
    return load_frame(get_store().conn, scope)


def choices() -> dict[str, Any]:
    """What the scope form offers: the lists and communities this visitor may see."""
    conn = get_store().conn
    private = include_private()
    lists = [
        str(name)
        for name, hidden in conn.execute("SELECT name, private FROM lists ORDER BY name")
        if private or not hidden
    ]
    communities = [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT lc.community FROM list_communities lc JOIN lists l "
            "ON l.id = lc.list WHERE (? OR l.private = 0) ORDER BY lc.community",
            (private,),
        )
    ]
    return {"lists": lists, "communities": communities, "periods": list(periods.PERIODS)}


def scope_data(scope: Scope, found: Params, frame: Frame | Mapping[str, int]) -> dict[str, Any]:
    """`frame`: the frame, or its counts as kept with cached figures (`webui.stats_figures`)."""
    if isinstance(frame, Frame):
        undated, excluded, bot_posts = frame.undated, frame.bots_excluded_posts, frame.bot_posts
    else:
        undated, excluded = frame["undated"], frame["bots_excluded_posts"]
        bot_posts = frame["bot_posts"]
    return {
        **scope.as_dict(),
        "label": scope.label,
        "period": found.period,
        "limit": found.limit,
        "undated": undated,
        "bots_excluded_posts": excluded,
        "bot_posts": bot_posts,
        "bots_toggle": bots_toggle(scope.include_bots),
    }


def links(endpoint: str, tables: Sequence[str]) -> dict[str, Any]:
    """The page, its JSON twin and one CSV link per table, all with this request's scope."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "table"]

    def url(suffix: str, extra: list[tuple[str, str]] | None = None) -> str:
        query = urlencode(args + (extra or []))
        return url_for(f"stats.{endpoint}{suffix}") + (f"?{query}" if query else "")

    return {
        "page": url(""),
        "json": url("_json"),
        "csv": {t: url("_csv", [] if i == 0 else [("table", t)]) for i, t in enumerate(tables)},
    }


def _urls(row: dict[str, Any]) -> dict[str, Any]:
    """A row with links for the thread and person keys it holds; subjects obfuscated."""
    if "subject" in row:
        row["subject"] = obfuscate_text(row["subject"])
    if row.get("thread"):
        row["thread_url"] = url_for("pages.thread", thread_id=row["thread"])
    for key in ("person", "source", "target", "a", "b"):
        if row.get(key):
            row[f"{key}_url"] = url_for("persons.person", key=row[key])
    return row


def rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Flat metric dataclasses as JSON-ready dicts (with thread and person links)."""
    if not items:
        return []
    names = [f.name for f in fields(items[0])]
    return [_urls({n: getattr(item, n) for n in names}) for item in items]


def record(item: Any) -> dict[str, Any]:
    assert is_dataclass(item) and not isinstance(item, type)
    return asdict(item)


def csv_table(name: str, cls: type[Any], items: Sequence[Any], scope: Scope) -> CsvTable:
    """Dataclass rows as a CSV table: one column per field (subjects obfuscated)."""
    header = [f.name for f in fields(cls)]

    def cell(item: Any, column: str) -> Any:
        value = getattr(item, column)
        return obfuscate_text(value) if column == "subject" else value

    return CsvTable(
        f"{filename(scope)}-{name}.csv",
        header,
        [[cell(item, h) for h in header] for item in items],
    )


def filename(scope: Scope) -> str:
    what = scope.community or "-".join(scope.lists) or "all"
    what = what[:60]
    span = "-".join(d.isoformat() for d in (scope.start, scope.end) if d)
    return f"stats-{what}" + (f"-{span}" if span else "")
