"""`--no-prepare` and the `statistics` of the commands that change the store without a sync
(`remove`, `restore`, `reparse`, `persons merge|split|undo|bot|not-bot`; issue 14, task PR2):
afterwards they prepare the statistics dashboards as `sync` does
(`listarchive.preparing.prepare_if_changed`: only when the change left a state not prepared
yet, in a store of `analytics.snapshot_min_posts` messages or more), so that the next visitor
does not load the frame from the messages (~7 s of CPU at 1M)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from listarchive.cli_common import current_settings

F = TypeVar("F", bound=Callable[..., Any])

HELP = (
    "Do not compute the statistics dashboards into the store after the change (as sync "
    "does, here in a store of analytics.snapshot_min_posts messages or more); their first "
    "visitor computes them."
)


def no_prepare_option(command: F) -> F:
    """The `--no-prepare` flag (the `no_prepare` parameter)."""
    return click.option("--no-prepare", is_flag=True, help=HELP)(command)


def prepare_after(ctx: click.Context, no_prepare: bool) -> dict[str, Any] | None:
    """Prepare after the change (call it once the store is closed, as `sync` does): the
    JSON's `statistics` (`Prepared.as_dict`; None when nothing ran)."""
    if no_prepare:
        return None
    from listarchive import preparing

    prepared = preparing.prepare_if_changed(current_settings(ctx))
    return None if prepared is None else prepared.as_dict()


def echo_line(statistics: dict[str, Any] | None) -> None:
    """The text summary's line (`statistics: N pages prepared in S s`, or `statistics not
    prepared: ...` on stderr), as `sync` prints it."""
    if statistics is None:
        return
    if statistics["error"]:
        click.echo(f"statistics not prepared: {statistics['error']}", err=True)
    else:
        pages, seconds = statistics["pages"], statistics["seconds"]
        click.echo(f"statistics: {pages} pages prepared in {seconds:.1f} s")
