"""`listarchive remove`, `removals` and `restore`: hide messages (or threads) from every reader
and every later sync, on record and undoable; `--purge` wipes them for good (`store.removals`).

Each change updates the search index at once (the removed documents deleted, restored ones
indexed again); when the index cannot be reached the removal still holds everywhere else,
the command says so and exits 1, and the next sync or reindex catches the index up.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Sequence

import click

from config.settings import Settings
from ingest.parse import normalise_msgid
from listarchive import searching
from listarchive.cli_common import current_settings, store_session
from listarchive.cli_prepare import echo_line, no_prepare_option, prepare_after
from listarchive.cli_text import plural
from search import indexer
from search.base import SearchError
from search.factory import open_configured
from store import removals
from store.removals import Removal, RemovalError
from store.store import Store

logger = logging.getLogger(__name__)


def cli_actor() -> str:
    """`cli:<the operating-system user>` (who ran the command)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


def update_index(settings: Settings, store: Store, keys: Sequence[str]) -> str:
    """Bring the index documents of `keys` up to date; the error text when it cannot be."""
    try:
        backend = open_configured(settings)
        try:
            indexer.refresh(store, backend, keys, **searching.index_pages(settings))
        finally:
            backend.close()
    except SearchError as exc:
        logger.warning("search index not updated: %s", exc)
        return str(exc)
    return ""


def _report(
    removal: Removal,
    index_error: str,
    as_json: bool,
    done: str,
    statistics: dict[str, object] | None,
) -> None:
    if as_json:
        payload = {**removal.as_dict(), "index_error": index_error, "statistics": statistics}
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(f"{done} removal {removal.id}: {_line(removal)}")
        echo_line(statistics)
    if index_error:
        click.echo(
            f"search index not updated: {index_error}; run `listarchive sync` or "
            "`listarchive reindex` when it is back",
            err=True,
        )


def _line(r: Removal) -> str:
    state = "purged" if r.purged else ("active" if r.active else f"undone {r.undone_at}")
    return (
        f"{r.kind} {r.target} ({plural(len(r.keys), 'message')}, {state}) by {r.actor} at "
        f"{r.created_at}" + (f": {r.reason}" if r.reason else "")
    )


@click.command()
@click.argument("key", required=False)
@click.option("--message-id", "message_id", help="Remove by Message-ID (every copy stored).")
@click.option("--thread", "whole_thread", is_flag=True, help="Remove the message's whole thread.")
@click.option("--reason", default="", help="Why (recorded with the removal).")
@click.option(
    "--purge",
    is_flag=True,
    help="Also wipe the raw bytes and text for good (cannot be undone).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the removal as JSON.")
@no_prepare_option
@click.pass_context
def remove(
    ctx: click.Context,
    key: str | None,
    message_id: str | None,
    whole_thread: bool,
    reason: str,
    purge: bool,
    as_json: bool,
    no_prepare: bool,
) -> None:
    """Hide a message (MESSAGE_KEY or --message-id ID) or its whole thread (--thread) from
    every page, search, export and statistic, and from every later sync."""
    if bool(key) == bool(message_id):
        raise click.UsageError("give a MESSAGE_KEY or --message-id ID (one of them)")
    settings = current_settings(ctx)
    with store_session(ctx) as store:
        conn = store.conn
        try:
            if message_id:
                wanted = normalise_msgid(message_id)
                keys = removals.keys_for_message_id(conn, wanted)
                kind, target = removals.MESSAGE, f"<{wanted}>"
            else:
                assert key is not None
                keys = removals.keys_for_message(conn, key)
                kind, target = removals.MESSAGE, key
            if whole_thread:
                threads = sorted({removals.thread_of(conn, k) for k in keys})
                if len(threads) != 1:
                    raise RemovalError(f"{target} is in {len(threads)} threads: name one message")
                kind, target = removals.THREAD, threads[0]
                keys = removals.keys_for_thread(conn, target)
            removal = removals.remove(
                conn, kind, target, keys, reason=reason, actor=cli_actor(), purge=purge
            )
        except RemovalError as exc:
            raise click.ClickException(str(exc)) from exc
        index_error = update_index(settings, store, removal.keys)
    _report(removal, index_error, as_json, "recorded", prepare_after(ctx, no_prepare))
    if index_error:
        ctx.exit(1)


@click.command("removals")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def removals_command(ctx: click.Context, as_json: bool) -> None:
    """The removals, newest first: what, who, when, why, and whether undone or purged."""
    with store_session(ctx) as store:
        found = removals.list_removals(store.conn)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in found], indent=2))
        return
    for r in found:
        click.echo(f"{r.id:>5}  {_line(r)}")
    click.echo(plural(len(found), "removal"))


@click.command()
@click.argument("removal_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the removal as JSON.")
@no_prepare_option
@click.pass_context
def restore(ctx: click.Context, removal_id: int, as_json: bool, no_prepare: bool) -> None:
    """Undo removal REMOVAL_ID: its messages are shown and synced again (not a purged one)."""
    settings = current_settings(ctx)
    with store_session(ctx) as store:
        try:
            removal = removals.undo(store.conn, removal_id, cli_actor())
        except RemovalError as exc:
            raise click.ClickException(str(exc)) from exc
        index_error = update_index(settings, store, removal.keys)
    _report(removal, index_error, as_json, "undid", prepare_after(ctx, no_prepare))
    if index_error:
        ctx.exit(1)


COMMANDS = [remove, removals_command, restore]
