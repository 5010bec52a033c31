"""A click group whose commands are imported when they run, not when the CLI starts.

`listarchive search` and `lists` answer in a few tens of milliseconds only if starting the
program does not import what they never use (the HTTP client, the Elasticsearch client, the
ingest pipeline, Flask, flanker): each command module is named here and imported by
`get_command` when that command is asked for.  `listarchive --help` lists them from
`LAZY_SUMMARIES` without importing any (tests/cli/test_startup_imports.py checks that each
summary is the command's own first sentence)."""

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
    "compact": "listarchive.cli_compact:compact",
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
    "sync": "listarchive.cli_sync:sync",
    "reindex": "listarchive.cli_sync:reindex",
    "quarantine": "listarchive.cli_sync:quarantine",
}
"""Command name -> `module:attribute` of the click command, imported on first use."""

LAZY_SUMMARIES: dict[str, str] = {
    "scheduler": "Keep every list in sync on its schedule (its own long-running process).",
    "runs": "Recorded sync runs (newest first), and lists whose source keeps failing.",
    "communities": "Show communities (groups of lists), or add one with `communities add`.",
    "completeness": "Per period: messages the archive shows versus messages held, with the "
    "differences.",
    "pipermail-map": "Build or refresh the map of a pipermail list's article numbers "
    "(NNNNNN.html) to messages, from the archive's date index of every stored period; the web "
    "UI redirects old /pipermail/ links with it.",
    "check": "Check the store (SQLite integrity, foreign keys, schema), the search index "
    "against it and the data files' permissions; read-only.",
    "backup": "Copy the store to PATH (a file, or a directory for a dated "
    "`store-<UTC time>.db`) with SQLite's online backup: one consistent instant, while sync "
    "and the web UI go on.",
    "compact": "Compact the store (VACUUM) and the embedded search index (FTS5 optimize, "
    "VACUUM) now, whatever their size; other writers wait meanwhile (minutes for millions of "
    "messages).",
    "remove": "Hide a message (MESSAGE_KEY or --message-id ID) or its whole thread "
    "(--thread) from every page, search, export and statistic, and from every later sync.",
    "removals": "The removals, newest first: what, who, when, why, and whether undone or purged.",
    "restore": "Undo removal REMOVAL_ID: its messages are shown and synced again (not a "
    "purged one).",
    "users": "Web UI accounts: who may log in, with which role.",
    "persons": "The people who posted (identities grouped into persons), busiest first.",
    "stats": "Messages, threads, participants, newcomers, lapsed and response times per period.",
    "rosters": "Member rosters imported per list (current snapshot first, then history).",
    "audit": "Migration audit of COMMUNITY: who moved from the old list to the new one.",
    "meetings": "Meetings whose participant lists were imported (newest first).",
    "tags": "Tags on persons (who attended, who volunteered) and whether they are active.",
    "reparse": "Parse the stored raw bytes again with the current parser (of LIST, or of "
    "every list): changed fields, senders, threads and index entries are updated, keys stay; "
    "quarantined messages that now parse are stored.",
    "scheduler-health": "Exit 0 when `listarchive scheduler` wrote its heartbeat recently, else 1.",
    "sync": "Fetch, parse, store, thread and index lists (all lists when none is named).",
    "reindex": "Rebuild the search index from the store.",
    "quarantine": "Messages that could not be parsed, with the reason.",
}
"""Command name -> the first sentence of its help: what `--help` shows for a command not
imported (click shortens it to the terminal's width, as it does a command's own help)."""


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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands of `--help`: a command not imported yet is described by its
        `LAZY_SUMMARIES` entry (a stand-in that is never run nor kept), so the help imports
        none of the command modules."""
        loaded = self.commands
        names = self.list_commands(ctx)
        commands = [
            loaded.get(name) or click.Command(name, help=LAZY_SUMMARIES[name]) for name in names
        ]
        visible = [command for command in commands if not command.hidden]
        if not visible:
            return
        limit = formatter.width - 6 - max(len(command.name or "") for command in visible)
        rows = [(command.name or "", command.get_short_help_str(limit)) for command in visible]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
