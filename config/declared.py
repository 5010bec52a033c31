"""Every setting declared once: name, type, default and help (`config.settings` loads and
checks them; docs/configuration.md lists each, tests/test_docs.py checks it does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple


class Setting(NamedTuple):  # not a dataclass: cheaper to import (issue 14)
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", Path, Path("var"), "Directory holding the store and the embedded index."),
    Setting(
        "search.backend",
        str,
        "sqlite",
        "Search backend: the embedded SQLite FTS5 index or Elasticsearch.",
        choices=("sqlite", "elasticsearch"),
    ),
    Setting("search.url", str, "http://localhost:9200", "Elasticsearch URL (elasticsearch only)."),
    Setting(
        "search.index",
        str,
        "listarchive-messages",
        "Elasticsearch alias (and index name prefix) holding the messages.",
    ),
    Setting("sync.workers", int, 2, "Processes used to parse archive volumes (1 = in-process)."),
    Setting("sync.timeout", float, 30.0, "HTTP timeout in seconds for one archive request."),
    Setting("sync.retries", int, 2, "Retries of a failed HTTP request before a volume fails."),
    Setting(
        "sync.user_agent",
        str,
        "listarchive/0.1 (+https://example.invalid/listarchive)",
        "User-Agent sent to archive servers.",
    ),
    Setting("sync.index_batch", int, 2000, "Messages per search-index write batch."),
    Setting(
        "scheduler.interval",
        str,
        "1h",
        "How often the scheduler syncs a list without its own `schedule` (30m, 6h, cron: ...).",
    ),
    Setting(
        "scheduler.full_check",
        str,
        "1d",
        "How often a scheduled run re-checks every volume, not only the newest (30m, 6h, 1d).",
    ),
    Setting(
        "scheduler.spread",
        bool,
        True,
        "Spread the lists' interval runs over the interval (each list at a fixed offset, from "
        "its name) instead of running them all at start-up; a list never synced runs at once.",
    ),
    Setting(
        "scheduler.refresh",
        str,
        "1m",
        "How often the scheduler looks for lists added or removed (and a changed settings "
        "file) and adds or drops their jobs (30s, 1m, 5m).",
    ),
    Setting(
        "scheduler.prepare_every",
        int,
        60,
        "Seconds between the scheduler's looks at the store's state (one read): changed "
        "without a sync (a merge, a bot mark, a removal or undo, a reparse) and holding "
        "analytics.snapshot_min_posts messages or more, the statistics dashboards are "
        "prepared again into the store (0 = never; a sync that stored messages prepares anyway).",
    ),
    Setting(
        "scheduler.heartbeat",
        int,
        30,
        "Seconds between the scheduler's heartbeats (`listarchive scheduler-health` is "
        "unhealthy after three missed ones).",
    ),
    Setting(
        "web.secure_cookies",
        bool,
        True,
        "Send the web session cookie over HTTPS only (Secure flag); set false only for "
        "plain-http local development.",
    ),
    Setting("web.session_hours", int, 8, "Hours a web login lasts before logging in again."),
    Setting(
        "web.base_url",
        str,
        "",
        "Public URL of the web UI (https://lists.example.org/archive); absolute URLs (CSV "
        "permalinks, redirects) are built from it, never from the request's Host header. Empty: "
        "links are relative to the site.",
    ),
    Setting(
        "web.trusted_proxies",
        str,
        "",
        "Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto/-Host headers "
        "are believed (empty: none).",
    ),
    Setting(
        "web.login_free_attempts",
        int,
        5,
        "Failed logins allowed (per account and per client address) before each further attempt "
        "must wait a growing delay.",
    ),
    Setting(
        "web.login_max_delay",
        float,
        900.0,
        "Longest wait in seconds imposed between login attempts after repeated failures.",
    ),
    Setting(
        "web.max_body_chars",
        int,
        200_000,
        "Characters of a message body shown on its page (more: a link to the full source).",
    ),
    Setting(
        "web.quarantine_view_bytes",
        int,
        16 * 1024,
        "Bytes of a quarantined message shown as text on its page (all: the raw download).",
    ),
    Setting(
        "web.ops_page_size",
        int,
        50,
        "Rows per page of the runs and quarantine pages (`?per_page=` up to 500).",
    ),
    Setting(
        "web.suggestions_page_size",
        int,
        100,
        "Merge suggestions per page of /persons/suggestions and its JSON twin (`?page=N`; the "
        "busiest names first, at most 1,000 in all); the page's HTML grows with each "
        "suggestion's persons and pairs.",
    ),
    Setting(
        "web.threads",
        int,
        8,
        "Threads per web worker (gunicorn gthread): slow clients do not block others.",
    ),
    Setting(
        "web.timeout",
        int,
        30,
        "Seconds a web request (or a client sending it) may take before it is dropped.",
    ),
    Setting(
        "web.send_timeout",
        int,
        600,
        "Seconds a client may take to receive one whole response (a page, a source, an "
        "export) before it is cut; one taking none of it for web.timeout seconds is cut sooner.",
    ),
    Setting(
        "web.frame_cache_posts",
        int,
        2_000_000,
        "Posts the statistics' frames cached in each web process may hold; past it the least "
        "recently used frames are dropped with their facts (the newest is always kept).",
    ),
    Setting(
        "web.figure_cache_bytes",
        int,
        256 * 1024 * 1024,
        "Bytes of statistics figures kept in the store at most (with at most 500 entries); "
        "past it the least recently kept go first, and a larger figure is not kept.",
    ),
    Setting(
        "analytics.snapshot_min_posts",
        int,
        50_000,
        "Posts from which a statistics frame loaded from the messages is also written to the "
        "store as a snapshot (issue 14), which the other web workers (and this one after a "
        "restart) read instead of loading it again, until the archive changes; also the "
        "store's size (messages) from which listarchive sync and the commands that change "
        "the archive prepare the statistics dashboards afterwards.",
    ),
    Setting(
        "analytics.snapshot_max_bytes",
        int,
        256 * 2**20,
        "Bytes the frame snapshots kept in the store may take in all (those of one state of "
        "the archive; past it the smallest are dropped first). 0: no snapshots.",
    ),
    Setting(
        "web.prepared_meetings",
        int,
        20,
        "Meetings (the most recent by date) whose pages are prepared after each sync that "
        "stored messages (their name suggestions kept in the store); older ones are computed "
        "on their first visit. 0: none.",
    ),
    Setting(
        "web.health_check_interval",
        float,
        300.0,
        "Seconds between two PRAGMA quick_check runs of the store by /healthz in each web "
        "process (damage met by any request shows at once); 0: on every probe. Also how long "
        "/healthz reports a search index failure a request met.",
    ),
    Setting(
        "sync.max_download_bytes",
        int,
        2 * 1024**3,
        "Largest archive file (as sent, compressed or not) fetched over HTTP; larger fails "
        "the volume.",
    ),
    Setting(
        "sync.max_volume_bytes",
        int,
        2 * 1024**3,
        "Largest decompressed archive volume read (as a stream); larger fails the volume.",
    ),
    Setting(
        "sync.max_message_bytes",
        int,
        64 * 1024**2,
        "Largest single message stored; larger is quarantined with a bounded prefix of its bytes.",
    ),
    Setting(
        "sync.max_mime_depth",
        int,
        30,
        "Deepest MIME nesting decoded; deeper parts are not decoded and the message is flagged.",
    ),
    Setting(
        "sync.request_deadline",
        float,
        600.0,
        "Total seconds one archive request may take (connect to last byte), however slowly the "
        "server sends.",
    ),
    Setting(
        "sync.run_deadline",
        float,
        6 * 3600.0,
        "Total seconds one list's sync may take; remaining volumes are left for the next run.",
    ),
    Setting(
        "sync.parse_window",
        int,
        6,
        "Volumes downloaded ahead of the one being stored (each a spool file of up to "
        "sync.max_download_bytes) while workers parse them.",
    ),
    Setting(
        "sync.batch_messages",
        int,
        500,
        "Parsed messages a parser worker hands to the store in one batch (also reparse's batch).",
    ),
    Setting(
        "sync.batch_bytes",
        int,
        32 * 1024**2,
        "Raw bytes of the messages in one parsed batch (a bigger message is a batch alone).",
    ),
    Setting(
        "sync.index_page_bytes",
        int,
        32 * 1024**2,
        "Raw bytes of the messages read in one page of index catch-up (at least one message).",
    ),
    Setting(
        "sync.dedup_digests",
        int,
        200_000,
        "Digests of distinct messages a parser worker remembers per volume to skip "
        "byte-identical copies; past it, copies are parsed again (stored as duplicates).",
    ),
    Setting(
        "sync.quarantine_keep_bytes",
        int,
        64 * 1024,
        "Bytes kept of a message larger than sync.max_message_bytes (quarantined).",
    ),
    Setting(
        "sync.max_deep_parts",
        int,
        10_000,
        "MIME parts looked at for text below sync.max_mime_depth (a bound on time).",
    ),
    Setting(
        "sync.max_redirects",
        int,
        5,
        "Redirects followed for one archive request (each hop checked against the list's "
        "origins); more fails the volume.",
    ),
    Setting(
        "sync.max_login_renewals",
        int,
        3,
        "Times one sync logs in to a private archive again after its session ended.",
    ),
    Setting(
        "search.max_query_length",
        int,
        1000,
        "Longest search query accepted, in characters.",
    ),
    Setting(
        "search.max_query_depth",
        int,
        10,
        "Deepest nesting of parentheses accepted in a search query.",
    ),
    Setting(
        "search.max_terms",
        int,
        32,
        "Most words and phrases (text, subject: and from: terms together) in one search query.",
    ),
    Setting(
        "search.max_prefix_terms",
        int,
        8,
        "Most from: names (each a prefix match over every sender) in one search query; exact "
        "addresses do not count.",
    ),
    Setting(
        "search.min_prefix_chars",
        int,
        2,
        "Fewest letters or digits in the last word of a from: name (a prefix match): one letter "
        "would match almost every sender.",
    ),
    Setting(
        "search.max_indexed_bytes",
        int,
        1024 * 1024,
        "UTF-8 bytes of body text indexed per message (own text first, then quoted text); "
        "words beyond are not searchable.",
    ),
    Setting(
        "search.max_snippet_bytes",
        int,
        32 * 1024,
        "UTF-8 bytes at the start of each body that search snippets are made from; a match "
        "beyond shows the body's first words.",
    ),
    Setting(
        "search.parallel_threads",
        int,
        1,
        "Threads (each with its own connection) that score one relevance search of very many "
        "matches in rowid ranges at once in the embedded index; 1 (the default) = one pass: no "
        "wall time was saved on a 2-core host, even with one core idle (docs/scaling.md).",
    ),
    Setting(
        "search.parallel_min_matches",
        int,
        100_000,
        "Fewest matches of a relevance search without filters that the embedded index scores "
        "in `search.parallel_threads` parts (same answers; fewer matches cost too little).",
    ),
    Setting(
        "store.compact_growth",
        float,
        1.25,
        "Compact the store and the embedded index after a sync once the store holds this many "
        "times the messages it held at its last compaction (VACUUM: the write lock meanwhile).",
    ),
    Setting(
        "store.compact_max_bytes",
        int,
        1 << 30,
        "Largest store (or embedded index) file compacted after a sync; a larger one is not "
        "(one log line, `listarchive runs` says so): `listarchive compact` does it when chosen.",
    ),
    Setting(
        "log_level",
        str,
        "INFO",
        "Logging level.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}
