"""Reports behind the CLI: run summaries, quarantine, completeness."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from ingest.completeness import (
    ArchiveCounts,
    PeriodCount,
    compare,
    held_counts,
    pipermail_counts,
)
from ingest.errors import SourceError
from ingest.http import HttpFetcher
from ingest.sync import RunSummary
from listarchive.cli_pipermail import found_index
from listarchive.cli_text import plural
from listarchive.syncing import make_fetcher
from store import quarantine
from store.records import ListInfo
from store.redact import redact
from store.store import Store

logger = logging.getLogger(__name__)


def format_summary(s: RunSummary) -> str:
    lines = [
        f"{s.list_name}: volumes {s.volumes_fetched} fetched, {s.volumes_unchanged} unchanged, "
        f"{s.volumes_failed} failed; {plural(s.new_messages, 'new message')}, "
        f"{plural(s.duplicates, 'duplicate')}, "
        f"{s.quarantined} quarantined" + (f", {s.removed} removed" if s.removed else "")
    ]
    if s.skipped:
        return f"{s.list_name}: skipped: {s.skipped}"
    if s.interrupted:
        lines.append("  interrupted: the remaining volumes are synced next time")
    if s.deadline:
        lines.append(f"  {s.deadline}")
    if s.error:
        lines.append(f"  FAILED: {s.error}")
    for failure in s.failures:
        lines.append(f"  volume {failure.volume} failed: {failure.error}")
    lines.extend(f"  warning: {warning}" for warning in s.warnings)
    return redact("\n".join(lines))  # a stored URL's credentials are never shown


def quarantine_rows(store: Store) -> list[dict[str, Any]]:
    """Every quarantined item (`store.quarantine`): what `/quarantine.json` lists too."""
    return [item.as_dict() for item in quarantine.items(store.conn)]


@dataclass(frozen=True, slots=True)
class Completeness:
    rows: list[PeriodCount]
    """Per period, in time order."""
    errors: list[str] = field(default_factory=list)
    """Why archive counts could not be fetched (the index, or periods' date indexes): the
    command then exits 1."""
    unfetched: int = 0
    """Periods whose count could not be fetched."""


def completeness(settings: Settings, store: Store, name: str) -> Completeness:
    """Compare, per period, what the archive shows with what the store holds for a list."""
    info = store.get_list(name)
    held = held_counts(store.conn, info.id)
    fetcher = make_fetcher(settings)
    try:
        archive = ArchiveCounts({})
        if info.source == "pipermail":
            archive = _pipermail_counts(settings, store, info, sorted(held), fetcher)
        elif info.source == "hyperkitty":
            # HyperKitty publishes no per-month count; its own export of the month is the
            # archive's list of that month's messages, so that is what we compare with
            archive = ArchiveCounts({name: n for name, (n, _held) in held.items()})
    finally:
        fetcher.close()
    reasons = list(dict.fromkeys(archive.errors.values()))  # one line per distinct reason
    return Completeness(compare(held, archive.counts), reasons, len(archive.errors))


def _pipermail_counts(
    settings: Settings, store: Store, info: ListInfo, periods: list[str], fetcher: HttpFetcher
) -> ArchiveCounts:
    """The archive's count per period, from where its index is now, on its allowed origins;
    none when the index cannot be reached (every period is then an error, with its reason)."""
    try:
        source = found_index(settings, store, info, fetcher)
    except SourceError as exc:
        logger.warning("completeness %s: %s", info.name, exc)
        return ArchiveCounts(dict.fromkeys(periods), dict.fromkeys(periods, f"index: {exc}"))
    return pipermail_counts(source.index_url, periods, fetcher, source.policy)
