"""The `listarchive` command: a thin click group over the library functions.

The commands and their `--json` shapes are a public interface (scripts rely on them):
extend them, never rename.  Exit codes: 0 success, 1 a run with failures or an error the
user can fix (the message says which), 2 bad usage.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from typing import Any

import click

from listarchive.cli_args import QueryCommand
from listarchive.cli_common import IndexUnusable, current_settings, store_errors, store_session
from listarchive.cli_lazy import LazyGroup
from listarchive.cli_text import plural

# `--help` imports neither the settings nor the store (issue 14, CLI start-up: ~12 ms of its
# CPU): each command imports what it uses (`app`, `json`, the store's modules) when it runs.

logger = logging.getLogger("listarchive")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default ./var; env LISTARCHIVE_DATA_DIR).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML settings file (default config/listarchive.toml when present).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, config_file: Path | None, verbose: bool) -> None:
    """listarchive: mailing-list archives, stored, threaded and searchable."""
    from config.settings import ConfigError, load_settings
    from store.redact import redact

    try:
        settings = load_settings(
            config_file, overrides={"data_dir": data_dir, "log_level": "DEBUG" if verbose else None}
        )
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {redact(str(exc))}") from exc
    logging.basicConfig(
        level=settings["log_level"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # flanker logs every undecodable header at WARNING ("syntax error in comment lexer"; its
    # lexer sets its own logger to INFO when imported); the parser falls back and flags it,
    # so nothing of flanker's reaches the terminal below ERROR (inherited by forked workers)
    _quiet("flanker")
    # the client logs each retry with a traceback; our error message says what failed
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    logging.getLogger("elasticsearch").setLevel(logging.ERROR)
    ctx.obj = {"settings": settings}


def _quiet(name: str) -> None:
    """Only ERROR and above from logger `name` and its children, whatever level they set."""
    quiet = logging.getLogger(name)
    quiet.setLevel(logging.ERROR)
    quiet.propagate = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    quiet.handlers = [handler]


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lists(ctx: click.Context, as_json: bool) -> None:
    """Show the lists (or add one with `lists add`)."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from store import list_origins
    from store.redact import redact

    with store_session(ctx, reading=True) as store:
        rows: list[dict[str, Any]] = [
            {
                "name": info.name,
                "source": (
                    list(info.paths) if info.source in ("mbox", "maildir") else redact(info.url)
                ),
                "source_type": info.source,
                "address": info.address,
                "community": info.community,
                "communities": list(info.communities),
                "messages": info.messages,
                "last_sync": info.last_sync,
                "private": info.private,
                "allow_origins": list(list_origins.allowed_origins(store.conn, info.name)),
            }
            for info in store.lists()
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No lists yet. Add one with `listarchive lists add NAME --pipermail URL`.")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        source = r["source"] if isinstance(r["source"], str) else ", ".join(r["source"])
        click.echo(
            f"{r['name']:<{width}}  {r['messages']:>8} msgs  "
            f"last sync {r['last_sync'] or 'never':<25}  {r['source_type']}: {source}"
            + (f" ({r['address']})" if r["address"] else "")
        )


@lists.command("add")
@click.argument("name")
@click.option("--pipermail", "pipermail_url", help="URL of the pipermail archive index.")
@click.option("--mbox", "mbox_paths", multiple=True, help="Local .mbox/.mbox.gz file(s).")
@click.option(
    "--maildir", "maildir_paths", multiple=True, help="Local Maildir folder(s) (cur/, new/)."
)
@click.option(
    "--hyperkitty", "hyperkitty_url", help="HyperKitty root URL (Mailman 3), with --address."
)
@click.option(
    "--address",
    default=None,
    help="The list's posting address (list@example.org): required with --hyperkitty; for any "
    "list, where the web UI's reply links go.",
)
@click.option("--community", default="", help="Community this list belongs to.")
@click.option(
    "--private",
    is_flag=True,
    help="Its messages are private (automatic for /mailman/private/ URLs).",
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="URL",
    help="Another origin (https://host[:port]) the archive may be fetched from, e.g. the new "
    "host the old one redirects to (repeatable; replaces those given before).",
)
@click.argument("more_paths", nargs=-1, type=click.Path(exists=False))
@click.pass_context
def lists_add(
    ctx: click.Context,
    name: str,
    pipermail_url: str | None,
    mbox_paths: tuple[str, ...],
    maildir_paths: tuple[str, ...],
    hyperkitty_url: str | None,
    address: str | None,
    community: str,
    private: bool,
    allow_origins: tuple[str, ...],
    more_paths: tuple[str, ...],
) -> None:
    """Add a list (or re-point an existing one): `--pipermail URL`, `--mbox PATH...`,
    `--maildir DIR` or `--hyperkitty URL --address LIST@DOMAIN`."""
    from listarchive import app
    from store.redact import redact

    with store_session(ctx) as store:
        try:
            info = app.add_list(
                store,
                name,
                pipermail_url,
                mbox_paths + more_paths,
                community,
                hyperkitty_url=hyperkitty_url,
                address=address,
                private=private,
                allow_origins=allow_origins,
                maildir_paths=maildir_paths,
            )
        except app.UsageError as exc:
            raise click.UsageError(redact(str(exc))) from exc  # it may repeat a URL given
    where = redact(info.url) or ", ".join(info.paths)
    click.echo(
        f"list {info.name}: {info.source} {where}" + (f" ({info.address})" if info.address else "")
    )


@cli.command(cls=QueryCommand)
@click.argument("query")
@click.option("--list", "list_names", multiple=True, help="Restrict to a list (repeatable).")
@click.option("--community", default="", help="Restrict to the lists of a community.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--sort", type=click.Choice(["relevance", "date", "date_asc"]), default="relevance")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--include-private",
    is_flag=True,
    help="Also find messages of private archives (for the secretariat only).",
)
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    list_names: tuple[str, ...],
    community: str,
    limit: int,
    offset: int,
    sort: str,
    as_json: bool,
    include_private: bool,
) -> None:
    """Search messages. Syntax: words, "phrases", -exclude, OR, from:, subject:, list:,
    after:YYYY-MM-DD, before:YYYY-MM-DD. A QUERY may start with `-` (`search -windows`)."""
    import json

    from listarchive import app, searching  # the search modules only for the commands that search
    from search.base import SearchError
    from search.reader import UnknownListError, check_operator_lists, named_lists
    from store.store import Store

    settings = current_settings(ctx)
    with store_errors():
        app.verify_store(settings)  # an index never answers for a lost or damaged store
    if community:
        from store.communities import CommunityError
        from store.communities import get as get_community

        with store_session(ctx) as store:
            try:
                list_names += get_community(store.conn, community).lists
            except CommunityError as exc:
                raise click.UsageError(str(exc)) from exc
    if named_lists(query, list_names):  # an unknown list is refused (exit 2), as in stats
        with store_errors():
            names = Store(settings.store_path, readonly=True)
        try:
            check_operator_lists(names.conn, query, list_names, include_private=include_private)
        except UnknownListError as exc:
            raise click.UsageError(str(exc)) from exc
        finally:
            names.close()
    try:
        result = searching.search(
            settings,
            query,
            list_names,
            sort=sort,
            limit=limit,
            offset=offset,
            include_private=include_private,
        )
    except searching.IndexUnavailable as exc:
        raise IndexUnusable(str(exc)) from exc
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    payload = searching.search_payload(result, list_names)
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    verb = "matches" if payload["total"] == 1 else "match"
    click.echo(f"{plural(payload['total'], 'message')} {verb}")
    for hit in result.hits:
        date = hit.date.strftime("%Y-%m-%d") if hit.date else "????-??-??"
        sender = hit.from_name or hit.from_addr
        click.echo(f"{date}  {click.style(hit.subject or '(no subject)', bold=True)}  — {sender}")
        click.echo(f"    {searching.render_snippet(hit.snippet, bold=True)}")
        click.echo(f"    id {hit.key}  list {', '.join(hit.lists)}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web UI (under gunicorn) until interrupted."""
    from webui.wsgi import serve as serve_webui  # Flask and gunicorn only for this command

    with store_errors():  # create_app checks the data directory and store at start-up
        serve_webui(current_settings(ctx), host=host, port=port, workers=workers)


# the other commands are imported when they run (`listarchive.cli_lazy.LAZY_COMMANDS`)


def main() -> None:
    try:
        cli(prog_name="listarchive")
    finally:
        # Every object left is frozen (out of the collector's generations), so the
        # collections the interpreter runs at exit walk none of them: ~10 ms of a search's
        # ~85 ms of CPU (issue 14, CLI start-up).  The process frees them when it ends; only
        # a reference cycle still open then is not finalized, and none is (each command
        # closes its store and index itself).  tests/cli/test_startup_imports.py
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
