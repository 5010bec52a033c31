"""`listarchive meetings ...` (participant lists matched to persons) and `listarchive tags ...`
(tags on persons).  Personal data: for facilitators and the secretariat."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import click

from analytics import attendance
from analytics.scope import ScopeError, parse_day
from listarchive.cli_common import store_session
from listarchive.cli_text import plural
from store import meetings, tags
from store.communities import all_communities
from store.participants import parse_participants

_DAYS = click.option(
    "--days",
    type=click.IntRange(1, 36_500),
    default=attendance.DAYS,
    show_default=True,
    help="Active means a post in this many days before today.",
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _activity(row: dict[str, Any]) -> str:
    if not row.get("last_post"):
        return "never posted"
    return f"last post {row['last_post']}, {plural(row['recent_posts'], 'recent post')}"


@click.group("meetings", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def meetings_group(ctx: click.Context, as_json: bool) -> None:
    """Meetings whose participant lists were imported (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    with store_session(ctx) as store:
        rows = attendance.meetings_summary(store.conn)
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['date'] or '----------'}  {r['name']:<30} "
            f"{plural(r['participants'], 'participant'):>16}, "
            f"{r['matched']} matched" + (f"  tag {r['tag']!r}" if r["tag"] else "")
        )


@meetings_group.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--date", "day", default="", help="The meeting's day (YYYY-MM-DD).")
@click.option("--community", default="", help="The community it belongs to.")
@click.option("--tag", default="", help='Tag its participants, e.g. "volunteer: norms research".')
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def import_command(
    ctx: click.Context, name: str, file: Path, day: str, community: str, tag: str, as_json: bool
) -> None:
    """Import meeting NAME's participants from FILE (one name per line, or a summary with a
    participants annex or a "List of participants: A, B, C." sentence) and match them."""
    try:
        when = parse_day(day, "--date")
    except ScopeError as exc:
        raise click.UsageError(str(exc)) from exc
    names = parse_participants(file.read_text(encoding="utf-8", errors="replace"))
    with store_session(ctx) as store:
        if community and community not in {c.name for c in all_communities(store.conn)}:
            raise click.UsageError(f"unknown community {community!r}")
        try:
            summary = meetings.import_meeting(
                store.conn,
                name,
                names,
                date=when.isoformat() if when else "",
                community=community,
                tag=tag,
                source=file.name,
            )
        except (meetings.MeetingError, tags.TagError) as exc:
            raise click.UsageError(str(exc)) from exc
    data = {
        "name": summary.meeting.name,
        "date": summary.meeting.date or None,
        "participants": summary.participants,
        "counts": summary.counts,
    }
    if as_json:
        _echo_json(data)
        return
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.counts.items()))
    click.echo(f"meeting {data['name']}: {plural(summary.participants, 'participant')} ({counts})")


@meetings_group.command("show")
@click.argument("name")
@_DAYS
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, name: str, days: int, as_json: bool) -> None:
    """Each participant: match, person, suggestions, and activity on the lists."""
    with store_session(ctx) as store:
        try:
            report = attendance.meeting_report(store.conn, name, days=days)
        except meetings.MeetingError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        _echo_json(report)
        return
    click.echo(
        f"{report['name']}"
        + (f" ({report['date']})" if report["date"] else "")
        + f": {plural(report['summary']['participants'], 'participant')}, "
        f"{report['summary']['matched']} matched, "
        f"{report['summary']['active']} active in the last {plural(days, 'day')}"
    )
    for p in report["participants"]:
        who = f"{p['person_key']} {p['person_name']}; {_activity(p)}" if p["person_key"] else ""
        click.echo(f"#{p['position']:<3} {p['name']:<36} {p['match']:<10} {who}")
        for s in p["suggestions"]:
            click.echo(f"       ? {s['key']} {s['name']} ({s['reason']}; {_activity(s)})")


@meetings_group.command("confirm")
@click.argument("name")
@click.argument("participant")
@click.argument("person_key")
@click.pass_context
def confirm(ctx: click.Context, name: str, participant: str, person_key: str) -> None:
    """Match PARTICIPANT (as listed, or #position) of meeting NAME to PERSON_KEY, and tag
    the person with the meeting's tags."""
    with store_session(ctx) as store:
        try:
            p = meetings.confirm(store.conn, name, participant, person_key, _actor())
        except (meetings.MeetingError, tags.TagError) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{p.name}: confirmed as {p.person_key} ({p.person_name})")


@meetings_group.command("unmatch")
@click.argument("name")
@click.argument("participant")
@click.pass_context
def unmatch(ctx: click.Context, name: str, participant: str) -> None:
    """Remove PARTICIPANT's match (and the tags it gave); it stays unmatched."""
    with store_session(ctx) as store:
        try:
            p = meetings.unmatch(store.conn, name, participant, _actor())
        except meetings.MeetingError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{p.name}: unmatched")


@click.group("tags", invoke_without_command=True)
@_DAYS
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tags_group(ctx: click.Context, days: int, as_json: bool) -> None:
    """Tags on persons (who attended, who volunteered) and whether they are active."""
    if ctx.invoked_subcommand is not None:
        return
    with store_session(ctx) as store:
        report = attendance.tags_report(store.conn, days=days)
    if as_json:
        _echo_json(report)
        return
    for t in report:
        click.echo(f"{t['tag']}: {plural(len(t['persons']), 'person')}, {t['active']} active")
        for p in t["persons"]:
            click.echo(f"  {p['key']}  {p['name']:<30} {_activity(p)}")


@tags_group.command("add")
@click.argument("person_key")
@click.argument("tag")
@click.pass_context
def add(ctx: click.Context, person_key: str, tag: str) -> None:
    """Tag a person (recorded with you as the actor)."""
    with store_session(ctx) as store:
        try:
            added = tags.add(store.conn, person_key, tag, _actor())
        except tags.TagError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{person_key}: {'tagged' if added else 'already tagged'} {tag!r}")


@tags_group.command("remove")
@click.argument("person_key")
@click.argument("tag")
@click.pass_context
def remove(ctx: click.Context, person_key: str, tag: str) -> None:
    """Remove a tag from a person."""
    with store_session(ctx) as store:
        try:
            removed = tags.remove(store.conn, person_key, tag, _actor())
        except tags.TagError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{person_key}: {'removed' if removed else 'did not have'} {tag!r}")
