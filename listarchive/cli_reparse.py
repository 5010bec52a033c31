"""`listarchive reparse [LIST] [--quarantined] [--dry-run] [--json]`: apply the current parser
to the stored raw bytes (`ingest.reparse`), then catch the search index up."""

from __future__ import annotations

import json

import click

from ingest.reparse import ReparseReport, reparse
from listarchive import searching
from listarchive.cli_common import current_settings, store_session
from listarchive.cli_prepare import echo_line, no_prepare_option, prepare_after
from listarchive.cli_text import plural
from listarchive.syncing import worker_limits
from store import locks
from store.store import UnknownListError


@click.command("reparse")
@click.argument("list_name", required=False)
@click.option(
    "--quarantined", is_flag=True, help="Only retry the quarantined messages (a fixed parser)."
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--workers", type=int, default=None, help="Parser processes (sync.workers).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@no_prepare_option
@click.pass_context
def reparse_command(
    ctx: click.Context,
    list_name: str | None,
    quarantined: bool,
    dry_run: bool,
    workers: int | None,
    as_json: bool,
    no_prepare: bool,
) -> None:
    """Parse the stored raw bytes again with the current parser (of LIST, or of every list):
    changed fields, senders, threads and index entries are updated, keys stay; quarantined
    messages that now parse are stored."""
    settings = current_settings(ctx)
    with store_session(ctx) as store:
        names = [list_name] if list_name else [info.name for info in store.lists()]
        owner = locks.default_owner()
        held: list[str] = []
        try:
            for name in names:  # no sync of these lists meanwhile
                if not locks.acquire(store.conn, f"sync:{name}", owner):
                    holder = locks.holder(store.conn, f"sync:{name}") or "another process"
                    raise click.ClickException(f"list {name}: {holder} is syncing it; try later")
                held.append(name)
            try:
                report = reparse(
                    store,
                    list_name,
                    quarantined_only=quarantined,
                    workers=workers or settings["sync.workers"],
                    limits=worker_limits(settings),
                    dry_run=dry_run,
                    batch=settings["sync.batch_messages"],
                    # only the embedded index needs the bodies replaced (`store.superseded`)
                    keep_bodies=settings["search.backend"] == "sqlite",
                )
            except UnknownListError as exc:
                raise click.UsageError(str(exc)) from exc
        finally:
            for name in held:
                locks.release(store.conn, f"sync:{name}", owner)
        indexed, index_error = (0, "") if dry_run else searching.update_index(settings, store)
    statistics = prepare_after(ctx, no_prepare or dry_run)
    if as_json:
        payload = report.as_dict() | {
            "indexed": indexed,
            "index_error": index_error,
            "statistics": statistics,
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for line in _lines(report):
            click.echo(line)
        if index_error:
            click.echo(f"search index not updated: {index_error}", err=True)
        elif not dry_run:
            click.echo(f"search index: {plural(indexed, 'message')} indexed")
        echo_line(statistics)
    if index_error:
        ctx.exit(1)


def _lines(report: ReparseReport) -> list[str]:
    would = "would change" if report.dry_run else "changed"
    fields = ", ".join(f"{name} {count}" for name, count in sorted(report.fields.items()))
    lines = [
        f"reparse: {plural(report.checked, 'message')} checked, {report.changed} {would}"
        + (f" ({fields})" if fields else "")
        + f"; {plural(report.identities_changed, 'sender')} re-identified, "
        f"{plural(report.threads_rebuilt, 'thread')} rebuilt"
    ]
    for kept in report.keys_kept[:20]:
        lines.append(f"  key {kept['key']} kept (the new parse gives {kept['new_key']})")
    for failing in report.now_failing[:20]:
        lines.append(f"  {failing['key']}: the current parser fails: {failing['reason']} (kept)")
    stored = "would be stored" if report.dry_run else "stored"
    lines.append(
        f"quarantine: {report.quarantine_checked} checked, {report.quarantine_stored} {stored} "
        f"({report.quarantine_duplicates} already held), {report.still_failing} still failing"
    )
    return lines


COMMANDS = [reparse_command]
