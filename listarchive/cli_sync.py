"""The commands that fill the store and its search index (`sync`, `reindex`) and that list
what could not be parsed (`quarantine`): imported when one of them runs
(`listarchive.cli_lazy.LAZY_COMMANDS`), so that a search or `lists` does not build them
(issue 14, CLI start-up)."""

from __future__ import annotations

import sys

import click

from listarchive.cli_common import current_settings, store_session
from listarchive.cli_text import plural

STORE_FULL_EXIT = 3
"""`sync` on a full disk (as for a store that cannot be used: docs/cli.md)."""


@click.command()
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the run summaries as JSON.")
@click.option("--workers", type=int, default=None, help="Parser processes (sync.workers).")
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Fetch and parse again the volumes that failed, even if unchanged since (a volume "
    "that failed over a limit is retried anyway once that limit is raised).",
)
@click.option(
    "--no-prepare",
    is_flag=True,
    help="Do not compute the statistics dashboards into the store after a run that stored "
    "messages (as the scheduler does, here in a store of analytics.snapshot_min_posts "
    "messages or more); their first visitor computes them.",
)
@click.pass_context
def sync(
    ctx: click.Context,
    names: tuple[str, ...],
    as_json: bool,
    workers: int | None,
    retry_failed: bool,
    no_prepare: bool,
) -> None:
    """Fetch, parse, store, thread and index lists (all lists when none is named)."""
    import json

    from listarchive import app, preparing, reports, syncing
    from store import unindexable
    from store.errors import StoreFullError
    from store.redact import redact

    settings = current_settings(ctx)
    show_progress = sys.stdout.isatty() and not as_json
    with store_session(ctx) as store:
        mark = unindexable.last_id(store.conn)
        try:
            options = syncing.SyncOptions(
                workers=workers, show_progress=show_progress, retry_failed=retry_failed
            )
            outcome = syncing.sync(settings, store, names, options)
        except app.UsageError as exc:
            raise click.UsageError(str(exc)) from exc
        except StoreFullError as exc:  # the run is recorded as failed; the store is intact
            click.echo(f"Error: {exc}: free space and run sync again", err=True)
            ctx.exit(STORE_FULL_EXIT)
        skipped = unindexable.listed(store.conn, mark, limit=1000)  # by this run's catch-up
        prepare = (
            not no_prepare
            and preparing.stored_messages(outcome.summaries)
            and preparing.worth_preparing(store.conn, settings)
        )
    summaries, indexed, index_error = outcome.summaries, outcome.indexed, outcome.index_error
    prepared = None  # after the store is closed, as the scheduler's (never fails the sync)
    if prepare:
        prepared = preparing.prepare_statistics(settings)
    if as_json:
        click.echo(
            redact(  # a stored URL's credentials are never shown
                json.dumps(
                    {
                        "runs": [s.as_dict() for s in summaries],
                        "indexed": indexed,
                        "index_error": index_error,
                        "not_indexable": [{"key": k.key, "reason": k.reason} for k in skipped],
                        "compaction": outcome.compaction,
                        "statistics": None if prepared is None else prepared.as_dict(),
                    },
                    indent=2,
                )
            )
        )
    else:
        for s in summaries:
            click.echo(reports.format_summary(s))
        if index_error:
            click.echo(f"search index not updated: {index_error}", err=True)
        else:
            click.echo(f"search index: {plural(indexed, 'message')} indexed")
        if skipped:
            click.echo(
                f"search index: {plural(len(skipped), 'message')} not indexable (first: "
                f"{skipped[0].key}: "
                f"{skipped[0].reason}); `listarchive check` lists them"
            )
        if prepared is not None:
            click.echo(prepared.line(), err=bool(prepared.error))
    attention = any(s.needs_attention for s in summaries) or skipped
    if not all(s.clean for s in summaries) or index_error or attention:
        ctx.exit(1)


@click.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the store."""
    from listarchive import searching
    from search.base import SearchError

    settings = current_settings(ctx)
    with store_session(ctx) as store:
        try:
            count = searching.reindex(settings, store)
        except SearchError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"reindexed {plural(count, 'message')}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def quarantine(ctx: click.Context, as_json: bool) -> None:
    """Messages that could not be parsed, with the reason."""
    import json

    from listarchive import reports  # the ingest pipeline only for this command

    with store_session(ctx) as store:
        rows = reports.quarantine_rows(store)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['list']}  {row['origin']}#{row['position']}  {row['reason']}")
    click.echo(f"{len(rows)} quarantined")
