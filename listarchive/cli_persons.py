"""`listarchive persons ...`: the people behind the addresses, merging them, and bots."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Any

import click

from analytics import bots as bot_scores
from listarchive.cli_common import store_session
from listarchive.cli_prepare import echo_line, no_prepare_option, prepare_after
from listarchive.cli_text import plural
from store import bots, identities, merges, visibility
from store.identities import IdentityRef
from store.persons import list_persons


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _day(ts: int | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).date().isoformat() if ts is not None else None


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.group(invoke_without_command=True)
@click.option("--search", "search", default="", help="Match names, addresses or keys.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def persons(ctx: click.Context, search: str, limit: int, as_json: bool) -> None:
    """The people who posted (identities grouped into persons), busiest first."""
    if ctx.invoked_subcommand is not None:
        return
    with store_session(ctx) as store:
        total, rows = list_persons(store.conn, search=search, limit=limit)
    if as_json:
        _echo_json(
            {
                "total": total,
                "persons": [
                    {
                        "key": r.key,
                        "name": r.name,
                        "messages": r.messages,
                        "first": _day(r.first),
                        "last": _day(r.last),
                        "addresses": list(r.addresses),
                    }
                    for r in rows
                ],
            }
        )
        return
    for r in rows:
        click.echo(
            f"{r.key}  {r.messages:>6}  {_day(r.first)} .. {_day(r.last)}  {r.name}"
            f"  <{', '.join(r.addresses)}>"
        )
    click.echo(
        plural(total, "person") + (f" (first {len(rows)} shown)" if total > len(rows) else "")
    )


def _person_json(conn: Any, key: str) -> dict[str, Any]:
    live = identities.resolve(conn, key)
    person = identities.get_person(conn, live) if live is not None else None
    if person is None:
        raise click.ClickException(f"unknown person {key!r}")
    return {
        "key": person.key,
        "name": person.name,
        "requested": key,
        "identities": [{"kind": r.kind, "value": r.value} for r in person.identities],
        "names": list(person.names),
    }


@persons.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, key: str, as_json: bool) -> None:
    """One person: their identities and the names they sign with (merged keys resolve)."""
    with store_session(ctx) as store:
        data = _person_json(store.conn, key)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['key']}  {data['name']}")
    for ident in data["identities"]:
        click.echo(f"  {ident['kind']:<8} {ident['value']}")
    for name in data["names"]:
        click.echo(f"  signs as {name}")


@persons.command("suggestions")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def suggestions(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Persons who may be one (the same full name from different addresses), to confirm
    with `persons merge` or reject with `persons distinct`."""
    with store_session(ctx) as store:
        found = merges.suggestions(store.conn, limit)
    if as_json:
        _echo_json(
            [
                {"name": s.name, "persons": list(s.persons), "messages": list(s.messages)}
                for s in found
            ]
        )
        return
    for s in found:
        pairs = ", ".join(f"{k} ({n})" for k, n in zip(s.persons, s.messages, strict=True))
        click.echo(f"{s.name}: {pairs}")
    click.echo(plural(len(found), "suggestion"))


def _fail(exc: merges.MergeError) -> click.ClickException:
    return click.ClickException(str(exc))


@persons.command("merge")
@click.argument("into")
@click.argument("others", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@no_prepare_option
@click.pass_context
def merge(
    ctx: click.Context, into: str, others: tuple[str, ...], as_json: bool, no_prepare: bool
) -> None:
    """Merge persons OTHERS into INTO (recorded; `persons undo EVENT` reverses it)."""
    with store_session(ctx) as store:
        try:
            event = merges.merge(store.conn, into, others, _actor())
        except merges.MergeError as exc:
            raise _fail(exc) from exc
        data = _person_json(store.conn, into)
    statistics = prepare_after(ctx, no_prepare)
    if as_json:
        _echo_json({"event": event, "person": data, "statistics": statistics})
        return
    click.echo(f"event {event}: merged into {data['key']} ({data['name']})")
    echo_line(statistics)


@persons.command("split")
@click.argument("key")
@click.option("--address", "addresses", multiple=True, help="An address to detach.")
@click.option("--name", "names", multiple=True, help="A name identity to detach.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@no_prepare_option
@click.pass_context
def split(
    ctx: click.Context,
    key: str,
    addresses: tuple[str, ...],
    names: tuple[str, ...],
    as_json: bool,
    no_prepare: bool,
) -> None:
    """Detach identities from a person into persons of their own (recorded, reversible)."""
    from store.names import name_key, normalize_address

    refs = [IdentityRef(identities.ADDRESS, normalize_address(a)) for a in addresses]
    refs += [IdentityRef(identities.NAME, name_key(n)) for n in names]
    if not refs:
        raise click.UsageError("give --address or --name")
    with store_session(ctx) as store:
        try:
            event = merges.split(store.conn, key, refs, _actor())
        except merges.MergeError as exc:
            raise _fail(exc) from exc
    statistics = prepare_after(ctx, no_prepare)
    if as_json:
        _echo_json({"event": event, "statistics": statistics})
        return
    click.echo(f"event {event}: split {plural(len(refs), 'identity', 'identities')} off {key}")
    echo_line(statistics)


@persons.command("undo")
@click.argument("event", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@no_prepare_option
@click.pass_context
def undo(ctx: click.Context, event: int, as_json: bool, no_prepare: bool) -> None:
    """Reverse a merge (unmerge) or a split, given its event number."""
    with store_session(ctx) as store:
        try:
            new = merges.undo(store.conn, event, _actor())
        except merges.MergeError as exc:
            raise _fail(exc) from exc
    statistics = prepare_after(ctx, no_prepare)
    if as_json:
        _echo_json({"event": new, "undid": event, "statistics": statistics})
        return
    click.echo(f"event {new}: undid event {event}")
    echo_line(statistics)


@persons.command("distinct")
@click.argument("first")
@click.argument("second")
@click.pass_context
def distinct(ctx: click.Context, first: str, second: str) -> None:
    """Record that two persons are different people (no longer suggested)."""
    with store_session(ctx) as store:
        try:
            event = merges.mark_distinct(store.conn, first, second, _actor())
        except merges.MergeError as exc:
            raise _fail(exc) from exc
    click.echo(f"event {event}: {first} and {second} are different people")


@persons.command("events")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def events(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The record of merges, splits, undos and distinct decisions (newest first)."""
    with store_session(ctx) as store:
        found = merges.events(store.conn, limit)
    if as_json:
        _echo_json([e.as_dict() for e in found])
        return
    for e in found:
        undone = f" (undone by {e.undone_by})" if e.undone_by else ""
        click.echo(f"{e.id:>5}  {e.at}  {e.actor:<16} {e.action}{undone}")


# -- bots: their posts are left out of the statistics by default --------------------------------


def _decide(
    ctx: click.Context, key: str, state: str, reason: str, as_json: bool, no_prepare: bool
) -> None:
    with store_session(ctx) as store:
        try:
            event = bots.decide(store.conn, key, state, _actor(), reason)
        except bots.BotError as exc:
            raise click.ClickException(str(exc)) from exc
        data = _person_json(store.conn, key)
    what = "a bot" if state == bots.BOT else "not a bot"
    statistics = prepare_after(ctx, no_prepare)
    if as_json:
        _echo_json(
            {"event": event or None, "person": data, "state": state, "statistics": statistics}
        )
        return
    if event:
        click.echo(f"event {event}: {data['key']} ({data['name']}) is {what}")
    else:
        click.echo(f"{data['key']} ({data['name']}) was already marked {what}")
    echo_line(statistics)


@persons.command("bot")
@click.argument("key")
@click.option("--reason", default="", help="Why (kept in the record).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@no_prepare_option
@click.pass_context
def bot(ctx: click.Context, key: str, reason: str, as_json: bool, no_prepare: bool) -> None:
    """Mark a person as a bot: statistics leave out their posts unless told to include bots
    (recorded; `persons not-bot` or `persons undo EVENT` reverses it)."""
    _decide(ctx, key, bots.BOT, reason, as_json, no_prepare)


@persons.command("not-bot")
@click.argument("key")
@click.option("--reason", default="", help="Why (kept in the record).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@no_prepare_option
@click.pass_context
def not_bot(ctx: click.Context, key: str, reason: str, as_json: bool, no_prepare: bool) -> None:
    """Record that a person is not a bot: removes a bot mark and keeps them from being
    suggested as a bot again (recorded, reversible with `persons undo EVENT`)."""
    _decide(ctx, key, bots.NOT_BOT, reason, as_json, no_prepare)


@persons.command("bots")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def bots_command(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Persons marked as bots (or as not bots), and suggested bots: persons whose traffic
    looks automated (fixed subjects, no replies, a regular hour, an automated name)."""
    with store_session(ctx) as store:
        decided = bots.decisions(store.conn)
        found = bot_scores.suggestions(
            store.conn, visibility.for_reader(store.conn, include_private=True), limit=limit
        )
    if as_json:
        _echo_json(
            {
                "marked": [d.as_dict() for d in decided],
                "suggestions": [s.as_dict() for s in found],
            }
        )
        return
    for d in decided:
        why = f": {d.reason}" if d.reason else ""
        click.echo(f"{d.key}  {d.state:<8} {d.name}  ({d.at} {d.actor}{why})")
    for s in found:
        click.echo(f"{s.key}  suggested {s.score:.2f}  {s.name} ({plural(s.posts, 'post')})")
        for reason in s.reasons:
            click.echo(f"    {reason}")
    click.echo(f"{len(decided)} decided, {len(found)} suggested")
