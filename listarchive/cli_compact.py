"""`listarchive compact`: the store and the embedded search index compacted now, by hand.

A sync compacts them itself after the store grew by ``store.compact_growth``, unless a file is
larger than ``store.compact_max_bytes`` (`store.compaction`): a VACUUM of a store of millions
of messages holds the write lock for minutes, so the operator chooses the time."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import click

from listarchive.cli_common import current_settings, store_errors, store_session

if TYPE_CHECKING:
    from config.settings import Settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def compact(ctx: click.Context, as_json: bool) -> None:
    """Compact the store (VACUUM) and the embedded search index (FTS5 optimize, VACUUM) now,
    whatever their size; other writers wait meanwhile (minutes for millions of messages)."""
    settings = current_settings(ctx)
    try:
        sizes, index_error = _compact_all(ctx, settings)
    except sqlite3.OperationalError as exc:  # a sync's volume transaction, past busy_timeout
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise click.ClickException(
            f"the store is busy ({exc}): another process is writing to it (a sync?); "
            "run `listarchive compact` again when it is done"
        ) from exc
    if as_json:
        click.echo(json.dumps({"files": sizes, "index_error": index_error}, indent=2))
        return
    for name, (old, new) in sizes.items():
        click.echo(f"{name}: {old / 1e6:,.1f} MB -> {new / 1e6:,.1f} MB")
    if index_error:
        click.echo(f"search index not compacted: {index_error}", err=True)
        ctx.exit(1)


def _compact_all(ctx: click.Context, settings: Settings) -> tuple[dict[str, list[int]], str]:
    """The store, then the embedded index: {file name: [bytes before, after]}, index error."""
    from search.base import SearchError
    from search.factory import open_configured
    from store import compaction

    sizes: dict[str, list[int]] = {}
    index_error = ""
    with store_session(ctx) as store, store_errors():
        before = compaction.file_bytes(store.path)
        compaction.compact(store.conn)
        sizes[store.path.name] = [before, compaction.file_bytes(store.path)]
        if settings["search.backend"] == "sqlite":
            try:
                backend = open_configured(settings)
                try:
                    path = getattr(backend, "path", None)
                    before = compaction.file_bytes(path) if path is not None else 0
                    backend_compact = getattr(backend, "compact", None)
                    if backend_compact is not None and path is not None:
                        backend_compact()
                        sizes[path.name] = [before, compaction.file_bytes(path)]
                finally:
                    backend.close()
            except SearchError as exc:
                index_error = str(exc)
        compaction.record(store.conn, "done", "listarchive compact")
    return sizes, index_error


COMMANDS = [compact]
