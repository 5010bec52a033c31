"""The `listarchive` command: a thin click group over the library functions.

The commands and their `--json` shapes are a public interface (scripts rely on them):
extend them, never rename.  Exit codes: 0 success, 1 a run with failures or an error the
user can fix (the message says which), 2 bad usage.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from config.settings import ConfigError, Settings, check_date, ensure_data_dir, load_settings
from listarchive import app
from search.base import SearchError
from store.communities import CommunityError, all_communities
from store.communities import get as get_community
from store.communities import upsert as upsert_community
from store.runs import list_health, recent_runs
from store.store import StoreError

logger = logging.getLogger("listarchive")


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    try:
        settings = load_settings(
            config_file, overrides={"data_dir": data_dir, "log_level": "DEBUG" if verbose else None}
        )
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    logging.basicConfig(
        level=settings["log_level"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # flanker logs every undecodable header at WARNING; the parser falls back and flags it
    logging.getLogger("flanker").setLevel(logging.ERROR)
    # the client logs each retry with a traceback; our error message says what failed
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    logging.getLogger("elasticsearch").setLevel(logging.ERROR)
    ctx.obj = {"settings": settings}


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def lists(ctx: click.Context, as_json: bool) -> None:
    """Show the lists (or add one with `lists add`)."""
    if ctx.invoked_subcommand is not None:
        return
    with _store(ctx) as store:
        rows = [
            {
                "name": info.name,
                "source": info.url if info.source != "mbox" else list(info.paths),
                "source_type": info.source,
                "address": info.address,
                "community": info.community,
                "messages": info.messages,
                "last_sync": info.last_sync,
                "private": info.private,
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
    "--hyperkitty", "hyperkitty_url", help="HyperKitty root URL (Mailman 3), with --address."
)
@click.option("--address", default=None, help="The list's address (list@example.org).")
@click.option("--community", default="", help="Community this list belongs to.")
@click.option(
    "--private",
    is_flag=True,
    help="Its messages are private (automatic for /mailman/private/ URLs).",
)
@click.argument("more_paths", nargs=-1, type=click.Path(exists=False))
@click.pass_context
def lists_add(
    ctx: click.Context,
    name: str,
    pipermail_url: str | None,
    mbox_paths: tuple[str, ...],
    hyperkitty_url: str | None,
    address: str | None,
    community: str,
    private: bool,
    more_paths: tuple[str, ...],
) -> None:
    """Add a list (or re-point an existing one): `--pipermail URL`, `--mbox PATH...` or
    `--hyperkitty URL --address LIST@DOMAIN`."""
    with _store(ctx) as store:
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
            )
        except app.UsageError as exc:
            raise click.UsageError(str(exc)) from exc
    where = info.url or ", ".join(info.paths)
    click.echo(
        f"list {info.name}: {info.source} {where}" + (f" ({info.address})" if info.address else "")
    )


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the run summaries as JSON.")
@click.option("--workers", type=int, default=None, help="Parser processes (sync.workers).")
@click.pass_context
def sync(ctx: click.Context, names: tuple[str, ...], as_json: bool, workers: int | None) -> None:
    """Fetch, parse, store, thread and index lists (all lists when none is named)."""
    settings = _settings(ctx)
    show_progress = sys.stdout.isatty() and not as_json
    with _store(ctx) as store:
        try:
            summaries, indexed, index_error = app.sync(
                settings, store, names, workers=workers, show_progress=show_progress
            )
        except app.UsageError as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(
            json.dumps(
                {
                    "runs": [s.as_dict() for s in summaries],
                    "indexed": indexed,
                    "index_error": index_error,
                },
                indent=2,
            )
        )
    else:
        for s in summaries:
            click.echo(app.format_summary(s))
        if index_error:
            click.echo(f"search index not updated: {index_error}", err=True)
        else:
            click.echo(f"search index: {indexed} messages indexed")
    if not all(s.clean for s in summaries) or index_error:
        ctx.exit(1)


@cli.command()
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
    after:YYYY-MM-DD, before:YYYY-MM-DD."""
    settings = _settings(ctx)
    if community:
        with _store(ctx) as store:
            try:
                list_names += get_community(store.conn, community).lists
            except CommunityError as exc:
                raise click.UsageError(str(exc)) from exc
    try:
        result = app.search(
            settings,
            query,
            list_names,
            sort=sort,
            limit=limit,
            offset=offset,
            include_private=include_private,
        )
    except SearchError as exc:
        raise click.ClickException(str(exc)) from exc
    payload = app.search_payload(result, list_names)
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    click.echo(f"{payload['total']} messages match")
    for hit in result.hits:
        date = hit.date.strftime("%Y-%m-%d") if hit.date else "????-??-??"
        sender = hit.from_name or hit.from_addr
        click.echo(f"{date}  {click.style(hit.subject or '(no subject)', bold=True)}  — {sender}")
        click.echo(f"    {app.render_snippet(hit.snippet, bold=True)}")
        click.echo(f"    id {hit.key}  list {', '.join(hit.lists)}")


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the store."""
    settings = _settings(ctx)
    with _store(ctx) as store:
        try:
            count = app.reindex(settings, store)
        except SearchError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"reindexed {count} messages")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def quarantine(ctx: click.Context, as_json: bool) -> None:
    """Messages that could not be parsed, with the reason."""
    with _store(ctx) as store:
        rows = app.quarantine_rows(store)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['list']}  {row['origin']}#{row['position']}  {row['reason']}")
    click.echo(f"{len(rows)} quarantined")


@cli.command()
@click.option("--once", is_flag=True, help="Run every list's job once, then exit.")
@click.pass_context
def scheduler(ctx: click.Context, once: bool) -> None:
    """Keep every list in sync on its schedule (its own long-running process).

    SIGTERM/SIGINT stop it cleanly: the volumes already downloaded are stored."""
    from listarchive import scheduler as scheduler_module

    settings = _settings(ctx)
    try:
        ensure_data_dir(settings)
        if once:
            scheduler_module.run_once(settings)
        else:
            scheduler_module.serve(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def runs(ctx: click.Context, name: str | None, limit: int, as_json: bool) -> None:
    """Recorded sync runs (newest first), and lists whose source keeps failing."""
    with _store(ctx) as store:
        if name is not None:
            try:
                store.get_list(name)
            except StoreError as exc:
                raise click.UsageError(str(exc)) from exc
        records = recent_runs(store.conn, name, limit)
        names = [name] if name else [info.name for info in store.lists()]
        health = [list_health(store.conn, n) for n in names]
    if as_json:
        payload = {
            "runs": [r.as_dict() for r in records],
            "lists": [
                {
                    "list": h.list_name,
                    "consecutive_failures": h.consecutive_failures,
                    "last_error": h.last_error,
                    "last_success": h.last_success,
                }
                for h in health
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    for r in records:
        d = r.as_dict()
        click.echo(
            f"{r.started_at}  {r.list_name:<20} {r.status:<11} "
            f"fetched {d.get('volumes_fetched', 0)} unchanged {d.get('volumes_unchanged', 0)} "
            f"failed {d.get('volumes_failed', 0)}; new {d.get('new_messages', 0)} "
            f"dup {d.get('duplicates', 0)} quarantined {d.get('quarantined', 0)}"
        )
    for h in health:
        if h.consecutive_failures:
            click.echo(
                f"FAILING: {h.list_name}: {h.consecutive_failures} runs in a row; "
                f"last error: {h.last_error}; last success: {h.last_success or 'never'}"
            )


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def communities(ctx: click.Context, as_json: bool) -> None:
    """Show communities (groups of lists), or add one with `communities add`."""
    if ctx.invoked_subcommand is not None:
        return
    with _store(ctx) as store:
        found = all_communities(store.conn)
    if as_json:
        rows = [
            {"name": c.name, "lists": list(c.lists), "cutover": c.cutover, "closed": c.closed}
            for c in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for c in found:
        dates = (f" cutover {c.cutover}" if c.cutover else "") + (
            f" closed {c.closed}" if c.closed else ""
        )
        click.echo(f"{c.name}: {', '.join(c.lists) or '(no lists)'}{dates}")


@communities.command("add")
@click.argument("name")
@click.option("--lists", "list_names", required=True, help="Comma-separated list names.")
@click.option("--cutover", default="", help="Date the new list took over (YYYY-MM-DD).")
@click.option("--closed", default="", help="Date the old list closed (YYYY-MM-DD).")
@click.pass_context
def communities_add(
    ctx: click.Context, name: str, list_names: str, cutover: str, closed: str
) -> None:
    """Group lists into a community (the old and the new list of one forum)."""
    members = [n.strip() for n in list_names.split(",") if n.strip()]
    try:
        for what, value in (("--cutover", cutover), ("--closed", closed)):
            if value:
                check_date(value, what)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    with _store(ctx) as store:
        try:
            community = upsert_community(store.conn, name, members, cutover, closed)
        except CommunityError as exc:
            raise click.UsageError(str(exc)) from exc
    click.echo(f"community {community.name}: {', '.join(community.lists)}")


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="Show every period, not only differences.")
@click.pass_context
def completeness(ctx: click.Context, name: str, as_json: bool, show_all: bool) -> None:
    """Per period: messages the archive shows versus messages held, with the differences."""
    settings = _settings(ctx)
    with _store(ctx) as store:
        try:
            rows = app.completeness(settings, store, name)
        except (StoreError, app.UsageError) as exc:
            raise click.UsageError(str(exc)) from exc
    data = [
        {
            "period": r.period,
            "archive": r.archive,
            "in_volume": r.in_volume,
            "held": r.held,
            "difference": r.difference,
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    differ = [d for d in data if d["difference"] not in (0, None)]
    for d in data if show_all else differ:
        archive = "?" if d["archive"] is None else d["archive"]
        click.echo(
            f"{d['period']:<22} archive {archive!s:>5}  held {d['held']:>5}  "
            f"in volume {d['in_volume']:>5}  difference {d['difference']}"
        )
    unknown = sum(1 for d in data if d["archive"] is None)
    click.echo(f"{len(data)} periods: {len(differ)} differ, {unknown} without an archive count")


class _StoreContext:
    def __init__(self, ctx: click.Context) -> None:
        self.ctx = ctx

    def __enter__(self) -> Any:
        settings = _settings(self.ctx)
        try:
            ensure_data_dir(settings)
            self.store = app.open_store(settings)
        except (ConfigError, StoreError) as exc:
            raise click.ClickException(str(exc)) from exc
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def _store(ctx: click.Context) -> _StoreContext:
    return _StoreContext(ctx)


def main() -> None:
    cli(prog_name="listarchive")


if __name__ == "__main__":  # pragma: no cover
    main()
