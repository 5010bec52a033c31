"""A click group whose commands are imported when they run, not when the CLI starts.

`listarchive search` and `lists` answer in a few tens of milliseconds only if starting the
program does not import what they never use (the HTTP client, the Elasticsearch client, the
ingest pipeline, Flask, flanker): each command module is named here and imported by
`get_command` when that command is asked for (or by `list_commands` for `--help`)."""

from __future__ import annotations

import importlib

import click

from listarchive.cli_common import Group

LAZY_COMMANDS: dict[str, str] = {
    "scheduler": "listarchive.cli_ops:scheduler",
    "runs": "listarchive.cli_ops:runs",
    "communities": "listarchive.cli_ops:communities",
    "completeness": "listarchive.cli_ops:completeness",
    "pipermail-map": "listarchive.cli_ops:pipermail_map",
    "check": "listarchive.cli_admin:check",
    "backup": "listarchive.cli_backup:backup",
    "remove": "listarchive.cli_remove:remove",
    "removals": "listarchive.cli_remove:removals_command",
    "restore": "listarchive.cli_remove:restore",
    "users": "listarchive.cli_users:users",
    "persons": "listarchive.cli_persons:persons",
    "stats": "listarchive.cli_stats:stats",
    "rosters": "listarchive.cli_rosters:rosters_group",
    "audit": "listarchive.cli_rosters:audit",
    "meetings": "listarchive.cli_meetings:meetings_group",
    "tags": "listarchive.cli_meetings:tags_group",
    "reparse": "listarchive.cli_reparse:reparse_command",
    "scheduler-health": "listarchive.cli_heartbeat:scheduler_health",
}
"""Command name -> `module:attribute` of the click command, imported on first use."""


class LazyGroup(Group):
    """`Group` (store errors end a command with exit 3) with the `LAZY_COMMANDS` besides the
    commands added to it directly."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
        loaded = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(loaded, click.Command) or loaded.name != cmd_name:
            raise RuntimeError(f"{LAZY_COMMANDS[cmd_name]} is not the `{cmd_name}` command")
        self.add_command(loaded)
        return loaded
