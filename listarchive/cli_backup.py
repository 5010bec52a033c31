"""`listarchive backup PATH`: a consistent copy of the store, taken while sync and web run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from listarchive.cli_common import current_settings, store_errors
from listarchive.cli_text import plural
from store.backup import backup as backup_store


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def backup(ctx: click.Context, path: Path, as_json: bool) -> None:
    """Copy the store to PATH (a file, or a directory for a dated `store-<UTC time>.db`) with
    SQLite's online backup: one consistent instant, while sync and the web UI go on.  The
    search index is not copied: after a restore, run `listarchive reindex` (README, Backups)."""
    settings = current_settings(ctx)
    with store_errors():
        result = backup_store(settings.store_path, path)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(
        f"backed up {plural(result.messages, 'message')} ({plural(result.lists, 'list')}, "
        f"{plural(result.bytes, 'byte')}) "
        f"to {result.path} in {result.duration:.1f}s"
    )


COMMANDS = [backup]
