"""What a list's run tells its source of each volume (`previous_state`: a failed one to retry,
one read whole again), what it says when a source lists no volume (`expect_volumes`) and when
its deadline stops it (`deadline_line`): the decisions of `ingest.sync`'s run, apart from its
pipeline."""

from __future__ import annotations

import dataclasses
import logging

from ingest.run_summary import RunSummary
from ingest.sources.base import Source, Volume
from ingest.worker import Limits
from store.records import VolumeState

logger = logging.getLogger(__name__)


def previous_state(
    state: VolumeState | None,
    limits: Limits,
    *,
    held: bool = False,
    retry_failed: bool = False,
    releasing: set[str],
) -> VolumeState | None:
    """What the source is told it had of a volume: `state`, except for a failed volume to
    retry (limits raised since, or `retry_failed`), or one with messages `held` in the
    quarantine by a limit raised since, whose validators and sha256 are forgotten so that
    it is fetched and parsed again (the latter whole: not from a resume offset; its name is
    added to `releasing`)."""
    if state is not None and held and state.status == "ok":
        logger.info(
            "volume %s: reading it again (a limit that quarantined messages of it was raised)",
            state.name,
        )
        releasing.add(state.name)
        return dataclasses.replace(
            state, etag="", last_modified="", sha256="", resume_offset=0, resume_fp=""
        )
    if state is None or state.status != "failed" or not state.sha256:
        return state
    raised = limits.raised_since(state.limits)
    if not (raised or retry_failed):
        return state
    why = "a limit was raised since it failed" if raised else "asked to retry failed volumes"
    logger.info("volume %s: parsing it again (%s)", state.name, why)
    return dataclasses.replace(state, etag="", last_modified="", sha256="")


def expect_volumes(
    source: Source,
    summary: RunSummary,
    discovered: list[Volume],
    states: dict[str, VolumeState],
) -> None:
    """A local source (files the user named) with no volume, or an archive that had
    volumes and now lists none: say so, rather than import nothing in silence."""
    if discovered or not (getattr(source, "local", False) or states):
        return
    summary.needs_attention = True
    if states:
        summary.warnings.append(
            f"the source lists no volumes, though {len(states)} were synced before"
        )
    elif not getattr(source, "warnings", None):
        summary.warnings.append("the source holds no volumes: nothing to import")


def deadline_line(deadline: float, left: int) -> str:
    seconds = f"{deadline:.3f}".rstrip("0").rstrip(".")
    noun = "volume" if left == 1 else "volumes"
    return f"run deadline of {seconds} s reached; {left} {noun} left for the next run"
