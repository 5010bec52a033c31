"""`listarchive scheduler-health`: is the scheduler alive (the compose healthcheck)?"""

from __future__ import annotations

import json

import click

from listarchive import heartbeat
from listarchive.cli_common import current_settings


@click.command("scheduler-health")
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=None,
    help="Oldest acceptable heartbeat in seconds (default: 3 x scheduler.heartbeat).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def scheduler_health(ctx: click.Context, max_age: float | None, as_json: bool) -> None:
    """Exit 0 when `listarchive scheduler` wrote its heartbeat recently, else 1."""
    health = heartbeat.check(current_settings(ctx), max_age=max_age)
    if as_json:
        click.echo(json.dumps(health.as_dict(), indent=2))
    else:
        click.echo(f"scheduler {'ok' if health.healthy else 'unhealthy'}: {health.message}")
    if not health.healthy:
        ctx.exit(1)


COMMANDS = [scheduler_health]
