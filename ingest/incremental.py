"""Which volumes a scheduled (incremental) run checks.

A full check makes one conditional request per volume.  A scheduled run checks only what can
have changed: volumes never fetched successfully, and the current and previous period (the
two newest volumes), where new mail lands; so a new message costs the index request plus the
volume that holds it, and never a re-download of the archive.  Older volumes are re-checked
(conditionally: ETag / Last-Modified, then size and sha256) by a full check, which the scheduler
runs when the last one is older than `scheduler.full_check`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ingest.sources.base import Volume
from store.records import VolumeState

RECENT_PERIODS = 2


def volumes_to_check(
    volumes: Sequence[Volume],
    states: Mapping[str, VolumeState],
    full: bool,
    also: Collection[str] = (),
) -> list[Volume]:
    """`volumes` (oldest first) that this run should request: the recent ones, the new, the
    failed, and those named in `also` (messages of them held in the quarantine by a limit
    raised since)."""
    if full:
        return list(volumes)
    recent = {v.name for v in volumes[-RECENT_PERIODS:]}
    return [
        v
        for v in volumes
        if v.name in recent
        or v.name not in states
        or states[v.name].status != "ok"
        or v.name in also
    ]
