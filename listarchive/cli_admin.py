"""Administration commands: `check` (is the store sound, does the index match it?)."""

from __future__ import annotations

import json

import click

from listarchive import checks
from listarchive.cli_common import current_settings, store_errors


@click.command()
@click.option(
    "--quick",
    is_flag=True,
    help="PRAGMA quick_check instead of integrity_check (faster on a big store).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def check(ctx: click.Context, quick: bool, as_json: bool) -> None:
    """Check the store (SQLite integrity, foreign keys, schema), the search index against it
    and the data files' permissions; read-only.  Exit 0 healthy, 1 problems, 3 damaged."""
    with store_errors():
        report = checks.run(current_settings(ctx), quick=quick)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for name, result in report.checks.items():
            click.echo(f"{result['status']:<8} {name:<13} {result['detail']}")
            for problem in result.get("problems", []):
                click.echo(f"{'':<23}{problem}")
        click.echo(f"store {report.store}: {report.status}")
    ctx.exit(report.exit_code)


COMMANDS = [check]
