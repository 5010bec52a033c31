"""Compute the statistics pages' default figures ahead of the first visitor (issue 14): after a
sync that stored messages, the scheduler asks every default dashboard once, as an anonymous
visitor and as a facilitator (the person directory and the `web.prepared_meetings` most recent
meetings' pages too: each costs 1.2-1.5 s CPU at 300k messages), so that the
figures are in the store (`webui.stats_figures`) before a web worker is asked for them.

The pages are produced by the application itself (the same views, parameters and keys as a
browser's request), in request contexts of its own: the facilitator is an account that exists
only for these requests (never stored, no session).  The answers are thrown away; only the
figures they kept remain.  A page that fails is logged and skipped.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Flask, current_app, g, has_app_context

from analytics import bots as bot_scores
from analytics import facts, frame, frame_snapshot, frame_snapshot_writer
from store.accounts import Account

logger = logging.getLogger(__name__)

PREPARER = Account("(statistics)", "facilitator", "", False)

ANONYMOUS = ("/stats", "/stats?scope=all")
FACILITATOR = (
    "/stats",
    "/stats?scope=all",
    "/stats/people",
    "/stats/responses",
    "/stats/network",
    "/stats/cohorts",
    "/persons/suggestions",
    "/persons/bots",
    "/persons",
)


def init_snapshots(app: Flask) -> None:
    """The frame snapshots (`analytics.frame_snapshot`) and the kept bot scores
    (`analytics.bots.configure`) as the settings say, used in a
    request unless the application keeps nothing in the store: `FRAME_SNAPSHOTS` False in
    its config, or unset and `STATS_FIGURE_CACHE` False (benchmarks timing the
    computation, a read-only store)."""
    settings = app.config["LISTARCHIVE_SETTINGS"]
    frame_snapshot.configure(
        settings["analytics.snapshot_min_posts"],
        settings["analytics.snapshot_max_bytes"],
        allowed=_snapshots_allowed,
    )
    # the bot scores (task BS) are kept with the snapshots, within the same bound
    bot_scores.configure(settings["analytics.snapshot_max_bytes"], allowed=_scores_allowed)
    # a snapshot is written after the request that loaded its frame, not inside it (task PR)
    app.before_request(frame_snapshot_writer.hold)
    app.teardown_request(frame_snapshot_writer.release)


def _snapshots_allowed() -> bool:
    """`FRAME_SNAPSHOTS` in the application's config, `STATS_FIGURE_CACHE` when unset."""
    if not has_app_context():
        return True
    config = current_app.config
    return bool(config.get("FRAME_SNAPSHOTS", config.get("STATS_FIGURE_CACHE", True)))


def _scores_allowed() -> bool:
    """`BOT_SCORES_KEPT` in the application's config, `FRAME_SNAPSHOTS` (or
    `STATS_FIGURE_CACHE`) when unset; outside an application (the CLI) never."""
    if not has_app_context():
        return False
    config = current_app.config
    return bool(config.get("BOT_SCORES_KEPT", _snapshots_allowed()))


def _base_url(app: Flask) -> str | None:
    """`web.base_url` when set: its path is the URL root the live pages' links carry (the
    figures are keyed on it)."""
    base = str(app.config["LISTARCHIVE_SETTINGS"]["web.base_url"])
    return base.rstrip("/") + "/" if base else None


def _get(app: Flask, url: str, *, facilitator: bool) -> int:
    with app.test_request_context(url, method="GET", base_url=_base_url(app)):
        if facilitator:
            g.current_user = PREPARER
        response = app.full_dispatch_request()
        status = response.status_code
        response.close()
        return status


def _communities(app: Flask, *, facilitator: bool) -> list[str]:
    from webui.stats_params import choices

    with app.test_request_context("/stats", base_url=_base_url(app)):
        if facilitator:
            g.current_user = PREPARER
        return [str(c) for c in choices()["communities"]]


def _meetings(app: Flask) -> list[str]:
    """The pages of the `web.prepared_meetings` most recent meetings (their name suggestions
    are kept: `stats_figures`); an older meeting's is computed on its first visit."""
    from store import meetings
    from webui.extensions import get_store

    wanted = int(app.config["LISTARCHIVE_SETTINGS"]["web.prepared_meetings"])
    with app.test_request_context("/meetings", base_url=_base_url(app)):
        found = meetings.all_meetings(get_store().conn)  # newest date first
    chosen = [f"/meetings/{quote(m.name)}" for m, _counts in found[: max(wanted, 0)]]
    logger.info("statistics: preparing %d of %d meetings' pages", len(chosen), len(found))
    return chosen


def prepare(app: Flask) -> int:
    """Ask every default statistics page once as each kind of reader; returns how many
    answered 200.  The frames and scores computed are forgotten afterwards: this process
    does not serve them, the store keeps what the pages need.  The frame snapshots are
    written as each frame is loaded (`frame_snapshot_writer.inline`): nobody waits for these
    pages, and each scope's frames are forgotten before the next."""
    try:
        with frame_snapshot_writer.inline():
            return _prepare(app)
    finally:
        _forget()


def _forget() -> None:
    frame.clear_cache()
    facts.clear_cache()
    bot_scores.clear_cache()


def _prepare(app: Flask) -> int:
    answered = 0
    for facilitator, urls in ((False, ANONYMOUS), (True, FACILITATOR)):
        _forget()  # one scope's frames at a time: the peak is that of one worker's
        communities = [
            f"/stats?community={quote(c)}" for c in _communities(app, facilitator=facilitator)
        ]
        extra = _meetings(app) if facilitator else []
        for url in [*urls, *communities, *extra]:
            if url in communities:
                _forget()
            try:
                status = _get(app, url, facilitator=facilitator)
            except Exception:  # a page that fails here fails for its visitor too: logged
                logger.exception("statistics not prepared: %s", url)
                continue
            if status == 200:
                answered += 1
            else:
                logger.warning("statistics not prepared: %s answered %d", url, status)
    return answered
