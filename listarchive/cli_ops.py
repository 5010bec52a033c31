"""Operations commands: the scheduler, run history, communities and completeness."""

from __future__ import annotations

import json
from typing import Any

import click

from config.settings import ConfigError, check_date, ensure_data_dir
from listarchive import app, reports
from listarchive.cli_common import current_settings, store_session
from listarchive.cli_pipermail import pipermail_map
from listarchive.cli_text import plural
from store.communities import CommunityError, all_communities, old_and_new
from store.communities import upsert as upsert_community
from store.runs import STATUSES, abandon_dead
from store.runs import report as runs_report
from store.store import StoreError


@click.command()
@click.option("--once", is_flag=True, help="Run every list's job once, then exit.")
@click.pass_context
def scheduler(ctx: click.Context, once: bool) -> None:
    """Keep every list in sync on its schedule (its own long-running process).

    SIGTERM/SIGINT stop it cleanly: the volumes already downloaded are stored."""
    from listarchive import scheduler as scheduler_module

    settings = current_settings(ctx)
    try:
        ensure_data_dir(settings)
        if once:
            scheduler_module.run_once(settings)
        else:
            scheduler_module.serve(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only runs with it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def runs(
    ctx: click.Context, name: str | None, limit: int, status: str | None, as_json: bool
) -> None:
    """Recorded sync runs (newest first), and lists whose source keeps failing."""
    with store_session(ctx) as store:
        if name is not None:
            try:
                store.get_list(name)
            except StoreError as exc:
                raise click.UsageError(str(exc)) from exc
        abandon_dead(store.conn)  # a run whose sync process is gone is not `running`
        # the same data as the secretariat's /runs.json (store.runs.report)
        payload = runs_report(store.conn, name, limit, status=status)
        from store import compaction

        payload["compaction"] = compaction.last(store.conn)  # the last one after a sync
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    for d in payload["runs"]:
        click.echo(
            f"{d['started_at']}  {d['list']:<20} {d['status']:<11} "
            f"fetched {d.get('volumes_fetched', 0)} unchanged {d.get('volumes_unchanged', 0)} "
            f"failed {d.get('volumes_failed', 0)}; new {d.get('new_messages', 0)} "
            f"dup {d.get('duplicates', 0)} quarantined {d.get('quarantined', 0)}"
        )
        if d["status"] in ("failed", "abandoned", "error") and d.get("error"):
            click.echo(f"    {d['error']}")
        if d.get("deadline"):
            click.echo(f"    {d['deadline']}")
    done = payload["compaction"]
    if done is not None and done["status"] == "skipped":
        click.echo(f"COMPACTION SKIPPED ({done['at']}): {done['detail']}")
    for h in payload["lists"]:
        if h["consecutive_failures"]:
            click.echo(
                f"FAILING: {h['list']}: {plural(h['consecutive_failures'], 'run')} in a row; "
                f"last error: {h['last_error']}; last success: {h['last_success'] or 'never'}"
            )


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def communities(ctx: click.Context, as_json: bool) -> None:
    """Show communities (groups of lists), or add one with `communities add`."""
    if ctx.invoked_subcommand is not None:
        return
    with store_session(ctx) as store:
        found = [(c, *old_and_new(store.conn, c)) for c in all_communities(store.conn)]
    if as_json:
        rows = [
            {
                "name": c.name,
                "lists": list(c.lists),
                "cutover": c.cutover,
                "closed": c.closed,
                "old": old,
                "new": new,
                "old_new_inferred": inferred,
            }
            for c, old, new, inferred in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for c, old, new, inferred in found:
        dates = (f" cutover {c.cutover}" if c.cutover else "") + (
            f" closed {c.closed}" if c.closed else ""
        )
        moved = f" old {old} -> new {new}{' (inferred)' if inferred else ''}" if old and new else ""
        click.echo(f"{c.name}: {', '.join(c.lists) or '(no lists)'}{dates}{moved}")


@communities.command("add")
@click.argument("name")
@click.option("--lists", "list_names", required=True, help="Comma-separated list names.")
@click.option("--cutover", default="", help="Date the new list took over (YYYY-MM-DD).")
@click.option("--closed", default="", help="Date the old list closed (YYYY-MM-DD).")
@click.option("--old", "old_list", default="", help="The old list (one of --lists).")
@click.option("--new", "new_list", default="", help="The new list (one of --lists).")
@click.pass_context
def communities_add(
    ctx: click.Context,
    name: str,
    list_names: str,
    cutover: str,
    closed: str,
    old_list: str,
    new_list: str,
) -> None:
    """Group lists into a community (the old and the new list of one forum).

    Without --old/--new, a two-list community's old list is the one whose first post is the
    earliest."""
    members = [n.strip() for n in list_names.split(",") if n.strip()]
    try:
        for what, value in (("--cutover", cutover), ("--closed", closed)):
            if value:
                check_date(value, what)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    with store_session(ctx) as store:
        try:
            community = upsert_community(
                store.conn, name, members, cutover, closed, old_list=old_list, new_list=new_list
            )
        except CommunityError as exc:
            raise click.UsageError(str(exc)) from exc
    click.echo(f"community {community.name}: {', '.join(community.lists)}")


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="Show every period, not only differences.")
@click.pass_context
def completeness(ctx: click.Context, name: str, as_json: bool, show_all: bool) -> None:
    """Per period: messages the archive shows versus messages held, with the differences."""
    settings = current_settings(ctx)
    with store_session(ctx) as store:
        try:
            found = reports.completeness(settings, store, name)
        except (StoreError, app.UsageError) as exc:
            raise click.UsageError(str(exc)) from exc
    rows = found.rows
    data = [
        {
            "period": r.period,
            "archive": r.archive,
            "in_volume": r.in_volume,
            "held": r.held,
            "difference": r.difference,
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        _completeness_text(data, show_all, found)
    if found.errors:
        ctx.exit(1)


def _completeness_text(
    data: list[dict[str, Any]], show_all: bool, found: reports.Completeness
) -> None:
    differ = [d for d in data if d["difference"] not in (0, None)]
    for d in data if show_all else differ:
        archive = "?" if d["archive"] is None else d["archive"]
        difference = "" if d["difference"] is None else f"  difference {d['difference']}"
        click.echo(
            f"{d['period']:<22} archive {archive!s:>5}  held {d['held']:>5}  "
            f"in volume {d['in_volume']:>5}{difference}"
        )
    unknown = sum(1 for d in data if d["archive"] is None)
    click.echo(
        f"{plural(len(data), 'period')}: {len(differ)} differ, {unknown} without an archive count"
        + (f" ({found.unfetched} could not be fetched)" if found.unfetched else "")
    )
    for reason in found.errors:
        click.echo(f"error: archive counts not fetched: {reason}", err=True)


COMMANDS = [scheduler, runs, communities, completeness, pipermail_map]
