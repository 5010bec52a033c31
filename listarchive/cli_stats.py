"""`listarchive stats`: the aggregate engagement figures of `/stats` (no names), for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from analytics import activity, cohorts, periods, responses
from analytics.frame import Frame, load_frame
from analytics.scope import ScopeError, parse_day, resolve_scope
from listarchive.cli_common import store_session
from listarchive.cli_text import plural


@click.command()
@click.option("--list", "list_names", multiple=True, help="A list (repeatable); default: all.")
@click.option("--community", default="", help="A community's lists.")
@click.option("--start", default="", help="First day counted (YYYY-MM-DD, UTC).")
@click.option("--end", default="", help="Last day counted (YYYY-MM-DD, UTC, inclusive).")
@click.option(
    "--period",
    type=click.Choice(periods.PERIODS),
    default="month",
    show_default=True,
    help="Rows per month, quarter or year.",
)
@click.option("--lapse-days", type=click.IntRange(0, 3650), default=cohorts.LAPSE_DAYS)
@click.option("--include-private", is_flag=True, help="Count private lists too.")
@click.option("--include-bots", is_flag=True, help="Count the posts of persons marked as bots too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(
    ctx: click.Context,
    list_names: tuple[str, ...],
    community: str,
    start: str,
    end: str,
    period: str,
    lapse_days: int,
    include_private: bool,
    include_bots: bool,
    as_json: bool,
) -> None:
    """Messages, threads, participants, newcomers, lapsed and response times per period."""
    with store_session(ctx) as store:
        try:
            scope = resolve_scope(
                store.conn,
                lists=list_names,
                community=community or None,
                start=parse_day(start, "--start"),
                end=parse_day(end, "--end"),
                include_private=include_private,
                include_bots=include_bots,
            )
        except ScopeError as exc:
            raise click.UsageError(str(exc)) from exc
        frame = load_frame(store.conn, scope)
        data: dict[str, Any] = {
            "scope": {
                **scope.as_dict(),
                "bots_excluded_posts": frame.bots_excluded_posts,
                "bot_posts": frame.bot_posts,
            },
            "period": period,
            "totals": asdict(activity.totals(frame)),
            "responses": asdict(responses.summary(frame)),
            "periods": _periods(frame, period, lapse_days),
        }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    t, r = data["totals"], data["responses"]
    click.echo(
        f"{scope.label}: {plural(t['messages'], 'message')}, "
        f"{plural(t['threads_started'], 'thread')} started, "
        f"{plural(t['participants'], 'participant')} ({t['newcomers']} new)"
    )
    if frame.bot_posts:
        click.echo(
            f"bots included: {plural(frame.bot_posts, 'post')} by bots counted"
            if include_bots
            else f"bots left out: {plural(frame.bot_posts, 'post')} by bots not counted "
            "(--include-bots)"
        )
    share = r["share"]
    click.echo(
        f"threads answered: {r['answered']} of {r['threads']}"
        + (f" ({share:.0%})" if share is not None else "")
        + f"; first reply median {_hours(r['median_seconds'])}, p90 {_hours(r['p90_seconds'])}"
    )
    click.echo(f"{period:<8} messages threads participants newcomers returning lapsed")
    for row in data["periods"]:
        lapsed = "-" if row["lapsed"] is None else row["lapsed"]
        click.echo(
            f"{row['period']:<8} {row['messages']:>8} {row['threads_started']:>7} "
            f"{row['participants']:>12} {row['newcomers']:>9} {row['returning']:>9} {lapsed:>6}"
        )


def _periods(frame: Frame, period: str, lapse_days: int) -> list[dict[str, Any]]:
    """Per period: activity, cohort counts and the share of its threads that got a reply."""
    rows = {a.period: asdict(a) for a in activity.series(frame, period)}
    for c in cohorts.cohort_counts(frame, period, lapse_days):
        rows.setdefault(c.period, {"period": c.period, "start": c.start})
        rows[c.period].update(returning=c.returning, lapsed=c.lapsed)
    for r in responses.by_period(frame, period):
        rows.setdefault(r.period, {"period": r.period, "start": r.start})
        rows[r.period].update(answered=r.answered, answered_share=r.share)
    defaults = {
        "messages": 0,
        "threads_started": 0,
        "threads_active": 0,
        "participants": 0,
        "newcomers": 0,
        "returning": 0,
        "lapsed": None,
        "answered": 0,
        "answered_share": None,
    }
    return [{**defaults, **rows[k]} for k in sorted(rows, key=lambda k: rows[k]["start"])]


def _hours(seconds: int | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.1f} h"
