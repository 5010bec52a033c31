"""`listarchive rosters ...` (member rosters and their reports) and `listarchive audit`
(the migration audit of a community).  Personal data: for the secretariat."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from analytics import migration
from analytics import rosters as roster_reports
from analytics.scope import ScopeError, parse_day
from listarchive.cli_common import store_session
from listarchive.cli_text import plural
from store import rosters
from store.roster_formats import FORMATS, RosterFormatError, parse_roster


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _day(value: str, what: str) -> date | None:
    try:
        return parse_day(value, what)
    except ScopeError as exc:
        raise click.UsageError(str(exc)) from exc


def _write_csv(header: Any, rows: Any) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


@click.group("rosters", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rosters_group(ctx: click.Context, as_json: bool) -> None:
    """Member rosters imported per list (current snapshot first, then history)."""
    if ctx.invoked_subcommand is not None:
        return
    with store_session(ctx) as store:
        found = rosters.all_rosters(store.conn)
    _print_snapshots(found, as_json)


def _print_snapshots(found: list[rosters.Roster], as_json: bool) -> None:
    rows = [r.as_dict() for r in found]
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        mark = "*" if r["current"] else " "
        click.echo(
            f"{mark} {r['id']:>4} {r['list']:<20} as of {r['as_of']}  "
            f"{plural(r['members'], 'member'):>12}  {r['format']:<13} {r['source']}"
        )
    click.echo(f"{plural(len(rows), 'roster snapshot')} (* current)")


@rosters_group.command("import")
@click.argument("list_name", metavar="LIST")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="The export's format.",
)
@click.option("--as-of", default="", help="Day the export was taken (YYYY-MM-DD; default today).")
@click.option("--dry-run", is_flag=True, help="Say what the import would do; store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def import_command(
    ctx: click.Context,
    list_name: str,
    file: Path,
    fmt: str,
    as_of: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import a member roster of LIST: Mailman 2 `list_members [-f]` output, Mailman 3
    `mailman members` output, a Postorius member CSV export or a REST member JSON."""
    day = _day(as_of, "--as-of")
    text = file.read_text(encoding="utf-8", errors="replace")
    with store_session(ctx) as store:
        info = next((i for i in store.lists() if i.name == list_name), None)
        list_id = info.address.replace("@", ".") if info and info.address else None
        try:
            parsed = parse_roster(text, fmt, list_id=list_id, filename=file.name)
            result = rosters.import_roster(
                store.conn,
                list_name,
                parsed,
                source=file.name,
                as_of=day.isoformat() if day else None,
                dry_run=dry_run,
            )
        except (RosterFormatError, rosters.RosterError) as exc:
            raise click.UsageError(str(exc)) from exc
    r = result.roster
    data = {
        "id": r.id,
        "list": r.list_name,
        "as_of": r.as_of,
        "format": r.format,
        "members": r.members,
        "unchanged": result.unchanged,
        "added": result.added,
        "removed": result.removed,
        "skipped": list(result.skipped),
        "warnings": list(result.warnings),
        "dry_run": result.dry_run,
    }
    if as_json:
        _echo_json(data)
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for line in result.skipped:
        click.echo(f"skipped (no valid address): {line}", err=True)
    members = plural(r.members, "member")
    if result.unchanged:
        click.echo(f"roster of {r.list_name}: unchanged ({members} as of {r.as_of})")
        return
    would = "dry run, nothing stored: would import " if result.dry_run else ""
    click.echo(
        f"{would}roster of {r.list_name} as of {r.as_of}: {members} ({r.format}); "
        f"{result.added} added, {result.removed} removed since the previous roster"
        + ("" if r.current else " (older than the current roster: kept as history)")
    )
    if not result.dry_run:
        click.echo(f"snapshot {r.id}; undo with: listarchive rosters rollback {r.list_name}")


@rosters_group.command("snapshots")
@click.argument("list_name", metavar="LIST")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def snapshots_command(ctx: click.Context, list_name: str, as_json: bool) -> None:
    """The roster snapshots of LIST, current first."""
    with store_session(ctx) as store:
        try:
            found = rosters.snapshots(store.conn, list_name)
        except rosters.RosterError as exc:
            raise click.UsageError(str(exc)) from exc
    _print_snapshots(found, as_json)


@rosters_group.command("rollback")
@click.argument("list_name", metavar="LIST")
@click.option(
    "--to",
    "to",
    type=int,
    default=None,
    help="Snapshot ID to make current (default: the one before the current).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rollback_command(ctx: click.Context, list_name: str, to: int | None, as_json: bool) -> None:
    """Make an earlier snapshot of LIST current again: the snapshots after it are deleted."""
    with store_session(ctx) as store:
        try:
            current, deleted = rosters.rollback(store.conn, list_name, to)
        except rosters.RosterError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        _echo_json({"current": current.as_dict(), "deleted": [r.as_dict() for r in deleted]})
        return
    for r in deleted:
        click.echo(f"deleted snapshot {r.id} (as of {r.as_of}, {plural(r.members, 'member')})")
    click.echo(
        f"roster of {list_name}: snapshot {current.id} as of {current.as_of} is current "
        f"({plural(current.members, 'member')})"
    )


@rosters_group.command("delete")
@click.argument("roster_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def delete_command(ctx: click.Context, roster_id: int, as_json: bool) -> None:
    """Delete roster snapshot ID (see `rosters snapshots LIST`)."""
    with store_session(ctx) as store:
        try:
            deleted = rosters.delete_roster(store.conn, roster_id)
            left = rosters.current_roster(store.conn, deleted.list_name)
        except rosters.RosterError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        _echo_json({"deleted": deleted.as_dict(), "current": left and left.as_dict()})
        return
    click.echo(f"deleted snapshot {deleted.id} of {deleted.list_name} (as of {deleted.as_of})")
    click.echo(
        f"current roster of {deleted.list_name}: "
        + (f"snapshot {left.id} as of {left.as_of}" if left else "none")
    )


@rosters_group.command("report")
@click.argument("list_name", metavar="LIST", required=False)
@click.option("--community", default="", help="A community: its old and new list.")
@click.option("--since", default="", help="Posters from this day (default: a year before as-of).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the rows as CSV.")
@click.pass_context
def report_command(
    ctx: click.Context,
    list_name: str | None,
    community: str,
    since: str,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Members who never post, posters who are not members (LIST); with --community also
    the old list's members who have not joined the new list."""
    if bool(list_name) == bool(community):
        raise click.UsageError("give a LIST or --community C")
    start = _day(since, "--since")
    with store_session(ctx) as store:
        try:
            if community:
                report = roster_reports.community_report(store.conn, community, since=start)
            else:
                report = roster_reports.list_report(store.conn, str(list_name), since=start)
        except roster_reports.RosterReportError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        _echo_json(report)
        return
    if as_csv:
        _write_csv(roster_reports.REPORT_COLUMNS, roster_reports.report_rows(report))
        return
    if community:
        click.echo(
            f"community {community}: {report['summary']['old_not_joined']} members of "
            f"{report['old_list']} have not joined {report['new_list']}"
        )
        for m in report["old_not_joined"]:
            click.echo(f"  {m['address']}  {m['name'] or m['person_name']}")
    for part in report.get("lists") or [report]:
        s = part["summary"]
        head = (
            f"{part['list']} (roster as of {part['roster']['as_of']}): "
            f"{plural(s['members'], 'member')}, {s['members_never_posted']} never posted; "
        )
        if part["posts_since"]:
            posters = plural(s["posters_not_members"], "poster")
            verb = "is not a member" if s["posters_not_members"] == 1 else "are not members"
            click.echo(f"{head}{posters} since {part['since']} {verb}")
        else:
            last = part["last_post"]
            click.echo(
                f"{head}no posts on {part['list']} since {part['since']}"
                + (f" (its last post: {last}; give --since to look earlier)" if last else "")
            )
        for m in part["members_never_posted"]:
            click.echo(f"  never posted: {m['address']}  {m['name']}")
        for p in part["posters_not_members"]:
            click.echo(
                f"  not a member: {p['person_name']} <{', '.join(p['addresses'])}> "
                f"{plural(p['posts'], 'post')}, last {p['last_post']}"
            )


@click.command()
@click.argument("community")
@click.option(
    "--window-days",
    type=click.IntRange(1, 36_500),
    default=365,
    show_default=True,
    help="Days before the cutover in which old-list posters count as active.",
)
@click.option("--since", default="", help="Window start (YYYY-MM-DD) instead of --window-days.")
@click.option(
    "--status",
    type=click.Choice(migration.STATUSES),
    default=None,
    help="Only persons with this status (table and CSV).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the per-person table as CSV.")
@click.pass_context
def audit(
    ctx: click.Context,
    community: str,
    window_days: int,
    since: str,
    status: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Migration audit of COMMUNITY: who moved from the old list to the new one."""
    start = _day(since, "--since")
    with store_session(ctx) as store:
        try:
            result = migration.audit(store.conn, community, window_days=window_days, since=start)
        except migration.AuditError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_csv:
        _write_csv(*result.person_table(status))
        return
    data = result.as_dict()
    if status:
        data["persons"] = [p for p in data["persons"] if p["status"] == status]
    if as_json:
        _echo_json(data)
        return
    s = data["summary"]
    click.echo(
        f"{community}: {data['old_list']} -> {data['new_list']}, cutover {data['cutover']}"
        + (" (inferred)" if data["cutover_inferred"] else "")
        + (f", closed {data['closed']}" if data["closed"] else "")
    )
    click.echo(
        f"{s['persons']} people counted = moved {s['moved']} (still posting to the old list: "
        f"{s['moved_still_on_old']}) + old only {s['old_only']} + not yet seen on the new list "
        f"{s['not_yet_seen']} + new faces {s['new_face']} + returning {s['returning']}"
    )
    click.echo(
        f"active on the old list since {data['since']}: {s['active_since']} "
        f"(= moved + old only + not yet seen) = {s['active_before']} before the cutover "
        f"+ {s['active_only_after_cutover']} only from the cutover on"
    )
    click.echo(
        f"messages: {s['old_after_cutover_messages']} to the old list after the cutover, "
        f"{s['old_after_close_messages']} after the close, {s['cross_posted_messages']} "
        f"cross-posted; {s['continued_threads']} threads continued on the new list"
    )
    for p in data["persons"]:
        if p["status"] == migration.NEW_FACE and not status:
            continue
        click.echo(
            f"  {p['status']:<12} {p['key']}  {p['name']:<30} first new {p['first_new'] or '-'}"
            f"  old after cutover {p['old_after_cutover']}  last {p['last_post']}"
        )
