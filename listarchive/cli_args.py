"""Command-line parsing that click does not do by itself: a search query starting with `-`.

`listarchive search '-windows'` (docs/search.md: `-word` excludes a word) would be read by
click as the short options `-w -i -n ...` ("No such option: -w").  `QueryCommand` reads any
argument that starts with `-` and is none of the command's own options as the query, wherever
it stands; the command's options (`--limit 5`, `--list=x`, `-h`) are read as before, and
`--` still ends the options.
"""

from __future__ import annotations

import click


def _option_arity(command: click.Command, ctx: click.Context) -> dict[str, bool]:
    """Each option name of `command` -> whether it takes a value."""
    names: dict[str, bool] = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                names[name] = not param.is_flag and not param.count
    return names


def query_last(command: click.Command, ctx: click.Context, args: list[str]) -> list[str]:
    """`args` with the arguments that start with `-` but are no option of `command` moved
    after a `--`, so that click reads them as positional arguments."""
    options = _option_arity(command, ctx)
    kept: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional.extend(args[i + 1 :])
            break
        name = arg.split("=", 1)[0]
        if name in options:
            kept.append(arg)
            if options[name] and "=" not in arg and i + 1 < len(args):
                kept.append(args[i + 1])  # the option's value, even if it starts with `-`
                i += 1
        elif arg.startswith("-") and len(arg) > 1:
            positional.append(arg)
        else:
            kept.append(arg)
        i += 1
    return [*kept, "--", *positional] if positional else kept


class QueryCommand(click.Command):
    """A command whose positional argument may start with `-` (see the module docstring)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, query_last(self, ctx, args))
