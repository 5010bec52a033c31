"""`listarchive pipermail-map`: learn a pipermail list's article numbers for old links."""

from __future__ import annotations

import json

import click

from config.settings import Settings
from ingest.errors import SourceError
from ingest.http import HttpFetcher
from ingest.pipermail_map import PeriodResult, map_list
from ingest.sources.pipermail import PipermailSource
from listarchive.cli_common import current_settings, store_session
from listarchive.cli_text import plural
from listarchive.syncing import make_fetcher, make_source
from store import list_origins
from store.records import ListInfo
from store.store import Store, StoreError


def found_index(
    settings: Settings, store: Store, info: ListInfo, fetcher: HttpFetcher
) -> PipermailSource:
    """The list's source with its index found, as a sync finds it: logged in to a private
    archive (the session cookie rides along with `fetcher`), redirects followed on the list's
    allowed origins (its URL's and the declared ones), so `index_url` is where the archive's
    pages are now and `policy` where they may be fetched from.  Raises `SourceError`."""
    origins = list_origins.allowed_origins(store.conn, info.name)
    source = make_source(settings, info, fetcher, allow_origins=origins)
    if not isinstance(source, PipermailSource):
        raise SourceError(info.name, f"list {info.name} is not a pipermail archive")
    source.index()
    return source


@click.command("pipermail-map")
@click.argument("name")
@click.option("--period", "periods", multiple=True, help="Only this period (repeatable).")
@click.option(
    "--no-pages",
    is_flag=True,
    help="Never fetch article pages: pair entries sharing a subject and author by order.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def pipermail_map(
    ctx: click.Context, name: str, periods: tuple[str, ...], no_pages: bool, as_json: bool
) -> None:
    """Build or refresh the map of a pipermail list's article numbers (NNNNNN.html) to
    messages, from the archive's date index of every stored period; the web UI redirects
    old /pipermail/ links with it."""
    settings = current_settings(ctx)
    with store_session(ctx) as store:
        try:
            info = store.get_list(name)
        except StoreError as exc:
            raise click.UsageError(str(exc)) from exc
        if info.source != "pipermail":
            raise click.UsageError(f"list {name} is not a pipermail archive")
        fetcher = make_fetcher(settings)
        try:
            source = found_index(settings, store, info, fetcher)
            results = map_list(
                store,
                info,
                fetcher,
                periods=periods,
                fetch_pages=not no_pages,
                index_url=source.index_url,
                policy=source.policy,
            )
        except SourceError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            fetcher.close()
    _report(name, results, as_json, index_requests=source.index_requests)
    if any(r.error for r in results):
        ctx.exit(1)


def _report(
    name: str, results: list[PeriodResult], as_json: bool, *, index_requests: int = 0
) -> None:
    totals = {
        "entries": sum(r.entries for r in results),
        "matched": sum(r.matched for r in results),
        "unmatched": sum(len(r.unmatched) for r in results),
        "unlisted": sum(r.unlisted for r in results),
        "requests": index_requests + sum(r.requests for r in results),
    }
    if as_json:
        payload = {"list": name, **totals, "periods": [r.as_dict() for r in results]}
        click.echo(json.dumps(payload, indent=2))
        return
    for r in results:
        if r.error:
            click.echo(f"{r.period:<22} index not fetched: {r.error} (previous map kept)")
        elif r.unmatched or r.unlisted:
            shown = ", ".join(f"{n:06d}" for n in r.unmatched[:10])
            more = "…" if len(r.unmatched) > 10 else ""
            click.echo(
                f"{r.period:<22} matched {r.matched}/{r.entries}; unmatched: {shown or '-'}{more}; "
                f"held but not in the index: {r.unlisted}"
            )
    failed = sum(1 for r in results if r.error)
    click.echo(
        f"{name}: {plural(len(results), 'period')}, {totals['matched']} of "
        f"{plural(totals['entries'], 'article')} "
        f"matched, {totals['unmatched']} unmatched, {totals['unlisted']} held messages not in "
        f"an index, {plural(failed, 'period')} failed; {plural(totals['requests'], 'request')}"
    )
