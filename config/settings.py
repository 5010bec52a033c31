"""Settings: each declared once (name, type, default, help), loaded in layers, checked at start-up.

Layers, later wins: code defaults, then the TOML file (`config/listarchive.toml` or `--config`),
then `LISTARCHIVE_*` environment variables (dots become underscores: `search.backend` is
`LISTARCHIVE_SEARCH_BACKEND`), then explicit overrides (command-line options).
Secrets never live here: they come from the environment only (see docs/configuration.md).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

ENV_PREFIX = "LISTARCHIVE_"
_SCHEDULE = re.compile(r"^\s*(?:[1-9]\d*\s*[smhd]|cron:\s*\S+(?:\s+\S+){4})\s*$")
DEFAULT_CONFIG_FILE = Path("config/listarchive.toml")


class ConfigError(Exception):
    """The configuration is invalid; the message says which setting and why."""


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
        "analytics.snapshot_min_posts",
        int,
        50_000,
        "Posts from which a statistics frame loaded from the messages is also written to the "
        "store as a snapshot (issue 14), which the other web workers (and this one after a "
        "restart) read instead of loading it again, until the archive changes.",
    ),
    Setting(
        "analytics.snapshot_max_bytes",
        int,
        256 * 2**20,
        "Bytes the frame snapshots kept in the store may take in all (those of one state of "
        "the archive; the least recently written are dropped past it). 0: no snapshots.",
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


class ListConfig(NamedTuple):  # not a dataclass: a tenth of the cost to import (issue 14)
    """A list declared in the TOML file (`[lists.NAME]`)."""

    name: str
    source: str
    """`pipermail`, `mbox`, `maildir` or `hyperkitty`."""
    url: str = ""
    paths: tuple[str, ...] = ()
    community: str = ""
    schedule: str = ""
    """How often the scheduler syncs it (`30m`, `6h`, `cron: 0 * * * *`); default
    `scheduler.interval`."""
    address: str = ""
    """The list's posting address: required for `hyperkitty` lists (HyperKitty keys archives
    by it), optional for the others; the web UI's reply links (`mailto:`) go to it."""
    allow_origins: tuple[str, ...] = ()
    """Other origins (`https://host[:port]`) its archive may be fetched from: the archive
    moved and the old host redirects there (a list's own URL's origin is always allowed)."""


class CommunityConfig(NamedTuple):  # not a dataclass (issue 14)
    """A community declared in the TOML file (`[communities.NAME]`)."""

    name: str
    lists: tuple[str, ...]
    cutover: str = ""
    closed: str = ""
    old: str = ""
    """The old list of a community that moved lists (one of `lists`); inferred when empty."""
    new: str = ""
    """The new list (one of `lists`); inferred when empty."""


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    lists: tuple[ListConfig, ...] = ()
    communities: tuple[CommunityConfig, ...] = ()
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    """Which layer each value came from (`default`, `file`, `env`, `override`)."""

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def data_dir(self) -> Path:
        path: Path = self.values["data_dir"]
        return path

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store.db"


_BOOLS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLS |= {"0": False, "false": False, "no": False, "off": False}


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    try:
        if setting.type is Path:
            value: Any = Path(str(raw)).expanduser()
        elif setting.type is bool:
            value = raw if isinstance(raw, bool) else _BOOLS[str(raw).strip().lower()]
        elif setting.type in (int, float):
            if isinstance(raw, bool):
                raise ValueError(raw)
            value = setting.type(raw)
        else:
            value = str(raw)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"{setting.name} from {origin}: expected {setting.type.__name__}, got {raw!r}"
        ) from exc
    if setting.name == "log_level":
        value = str(value).upper()
    if setting.choices and value not in setting.choices:
        raise ConfigError(
            f"{setting.name} from {origin}: {value!r} is not one of {', '.join(setting.choices)}"
        )
    return value


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name not in SETTINGS_BY_NAME:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _parse_lists(table: Mapping[str, Any], origin: str) -> tuple[ListConfig, ...]:
    lists = []
    for name, spec in table.items():
        if not isinstance(spec, Mapping):
            raise ConfigError(f"lists.{name} in {origin}: expected a table")
        schedule = str(spec.get("schedule", ""))
        origins = _parse_origins(spec, f"lists.{name}")
        posting = str(spec.get("address", "")).strip()
        if posting and ("@" not in posting or any(c.isspace() for c in posting)):
            raise ConfigError(f"lists.{name}.address in {origin}: expected LIST@DOMAIN")
        if "pipermail" in spec:
            url = str(spec["pipermail"])
            check_url(url, f"lists.{name}.pipermail")
            lists.append(
                ListConfig(
                    name,
                    "pipermail",
                    url=url,
                    community=str(spec.get("community", "")),
                    schedule=schedule,
                    address=posting,
                    allow_origins=origins,
                )
            )
        elif "hyperkitty" in spec:
            url = str(spec["hyperkitty"])
            check_url(url, f"lists.{name}.hyperkitty")
            address = str(spec.get("address", "")).strip()
            if "@" not in address:
                raise ConfigError(
                    f"lists.{name} in {origin}: `hyperkitty = URL` needs `address = LIST@DOMAIN`"
                )
            lists.append(
                ListConfig(
                    name,
                    "hyperkitty",
                    url=url,
                    community=str(spec.get("community", "")),
                    schedule=schedule,
                    address=address,
                    allow_origins=origins,
                )
            )
        elif "mbox" in spec or "maildir" in spec:
            kind = "mbox" if "mbox" in spec else "maildir"
            if "mbox" in spec and "maildir" in spec:
                raise ConfigError(f"lists.{name} in {origin}: `mbox` or `maildir`, not both")
            raw_paths = spec[kind]
            paths = (raw_paths,) if isinstance(raw_paths, str) else tuple(map(str, raw_paths))
            lists.append(
                ListConfig(
                    name,
                    kind,
                    paths=paths,
                    community=str(spec.get("community", "")),
                    schedule=schedule,
                    address=posting,
                )
            )
        else:
            raise ConfigError(
                f"lists.{name} in {origin}: needs `pipermail = URL`, `mbox = [...]`, "
                "`maildir = DIR` or `hyperkitty = URL` with `address`"
            )
    return tuple(lists)


def _parse_origins(spec: Mapping[str, Any], what: str) -> tuple[str, ...]:
    raw = spec.get("allow_origins", [])
    if isinstance(raw, str) or not isinstance(raw, list):
        raise ConfigError(f"{what}.allow_origins: expected a list of origins (https://host)")
    if raw and ("mbox" in spec or "maildir" in spec):
        raise ConfigError(f"{what}.allow_origins: only for pipermail and hyperkitty lists")
    return tuple(check_origin(str(o), f"{what}.allow_origins") for o in raw)


def _parse_communities(table: Mapping[str, Any], origin: str) -> tuple[CommunityConfig, ...]:
    found = []
    for name, spec in table.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("lists"), list):
            raise ConfigError(f"communities.{name} in {origin}: needs `lists = [...]`")
        dates = {}
        for key in ("cutover", "closed"):
            value = str(spec.get(key, ""))
            if value:
                check_date(value, f"communities.{name}.{key}")
            dates[key] = value
        members = tuple(map(str, spec["lists"]))
        roles = {}
        for key in ("old", "new"):
            value = str(spec.get(key, ""))
            if value and value not in members:
                raise ConfigError(
                    f"communities.{name}.{key} in {origin}: {value!r} is not one of its lists"
                )
            roles[key] = value
        if roles["old"] and roles["old"] == roles["new"]:
            raise ConfigError(f"communities.{name} in {origin}: `old` and `new` are the same list")
        found.append(CommunityConfig(name, members, **dates, **roles))
    return tuple(found)


def check_date(value: str, what: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{what}: {value!r} is not a YYYY-MM-DD date") from exc


_CREDENTIALS_REFUSED = (
    "give the URL without it; a private archive's login goes in the secrets (docs/"
    "configuration.md, private archives)"
)


def check_url(url: str, what: str) -> None:
    """An http(s) URL without credentials in it (they would be sent to whatever host the
    URL names, and printed with it): archive logins belong in the secrets.  The message
    never repeats a URL that holds them, nor one that does not parse and holds an `@`
    (`http:/user:pw@host`): what is echoed has no `user:password@` part to redact."""
    parsed = urlparse(url)
    if "@" in parsed.netloc:
        raise ConfigError(
            f"{what}: the URL holds a user name or password (user:password@host): "
            + _CREDENTIALS_REFUSED
        )
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        if "@" in url:
            raise ConfigError(
                f"{what}: not an http(s) URL (http(s)://host/path), and it looks like it holds "
                "a user name or password (user:password@host; not repeated here): "
                + _CREDENTIALS_REFUSED
            )
        raise ConfigError(f"{what}: {url!r} is not an http(s) URL")


def _shown(url: str) -> str:
    """`url` quoted for a message, unless it holds an `@` (a password may be in it)."""
    return "the URL given" if "@" in url else repr(url)


def check_origin(origin: str, what: str) -> str:
    """An origin declared for a list, `https://host` or `http://host:port`, normalised."""
    check_url(origin.strip(), what)
    parsed = urlparse(origin.strip())
    shown = _shown(origin)
    if not parsed.hostname:
        raise ConfigError(f"{what}: {shown} is not an origin like https://host[:port]")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment or parsed.params:
        raise ConfigError(f"{what}: {shown} is an origin, scheme://host[:port], without a path")
    try:
        parsed.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{what}: {shown} has no valid port") from exc
    return f"{parsed.scheme}://{parsed.netloc.lower()}"


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load settings from defaults, the TOML file, the environment and overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    sources = {s.name: "default" for s in SETTINGS}
    lists: tuple[ListConfig, ...] = ()
    communities: tuple[CommunityConfig, ...] = ()

    env_file = env.get(ENV_PREFIX + "CONFIG")
    if config_file is None and env_file:
        config_file = Path(env_file)
    explicit = config_file is not None
    path = config_file if config_file is not None else DEFAULT_CONFIG_FILE
    used_file: Path | None = None
    if path.is_file():
        import tomllib  # only when there is a file to read (issue 14, CLI start-up)

        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        lists = _parse_lists(data.pop("lists", {}), str(path))
        communities = _parse_communities(data.pop("communities", {}), str(path))
        for name, raw in _flatten(data).items():
            if name not in SETTINGS_BY_NAME:
                raise ConfigError(f"{path}: unknown setting {name!r}")
            values[name] = _coerce(SETTINGS_BY_NAME[name], raw, str(path))
            sources[name] = "file"
        used_file = path
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")

    for setting in SETTINGS:
        var = ENV_PREFIX + setting.name.replace(".", "_").upper()
        if var in env:
            values[setting.name] = _coerce(setting, env[var], var)
            sources[setting.name] = "env"
    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in SETTINGS_BY_NAME:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(SETTINGS_BY_NAME[name], raw, "command line")
        sources[name] = "override"

    settings = Settings(
        values=values,
        lists=lists,
        communities=communities,
        config_file=used_file,
        sources=sources,
    )
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Start-up checks with hints: fail early with a clear message."""
    if settings["sync.workers"] < 1:
        raise ConfigError("sync.workers must be at least 1")
    if settings["sync.timeout"] <= 0:
        raise ConfigError("sync.timeout must be positive")
    if settings["sync.index_batch"] < 1:
        raise ConfigError("sync.index_batch must be at least 1")
    if settings["web.session_hours"] < 1:
        raise ConfigError("web.session_hours must be at least 1")
    for name in (
        "web.login_free_attempts",
        "web.max_body_chars",
        "web.quarantine_view_bytes",
        "web.ops_page_size",
        "web.suggestions_page_size",
        "web.frame_cache_posts",
        "web.threads",
        "web.timeout",
        "web.send_timeout",
        "sync.max_download_bytes",
        "sync.max_volume_bytes",
        "sync.max_message_bytes",
        "sync.max_mime_depth",
        "sync.parse_window",
        "sync.batch_messages",
        "sync.batch_bytes",
        "sync.index_page_bytes",
        "sync.quarantine_keep_bytes",
        "sync.max_deep_parts",
        "search.max_query_length",
        "search.max_query_depth",
        "search.max_terms",
        "search.max_prefix_terms",
        "search.min_prefix_chars",
        "search.max_indexed_bytes",
        "search.max_snippet_bytes",
        "store.compact_max_bytes",
    ):
        if settings[name] < 1:
            raise ConfigError(f"{name} must be at least 1")
    for name in (
        "sync.dedup_digests",
        "sync.max_redirects",
        "sync.max_login_renewals",
        "web.prepared_meetings",
        "analytics.snapshot_min_posts",
        "analytics.snapshot_max_bytes",
    ):
        if settings[name] < 0:
            raise ConfigError(f"{name} must be at least 0")
    if settings["store.compact_growth"] < 1.0:
        raise ConfigError("store.compact_growth must be at least 1.0")
    if settings["web.health_check_interval"] < 0:
        raise ConfigError("web.health_check_interval must be at least 0")
    for name in ("web.login_max_delay", "sync.request_deadline", "sync.run_deadline"):
        if settings[name] <= 0:
            raise ConfigError(f"{name} must be positive")
    base_url = settings["web.base_url"]
    if base_url:
        check_url(base_url, "web.base_url")
    if settings["search.backend"] == "elasticsearch":
        check_url(settings["search.url"], "search.url")
    for name in ("scheduler.full_check", "scheduler.refresh"):
        if not _SCHEDULE.match(settings[name]) or "cron" in settings[name]:
            raise ConfigError(f"{name}: {settings[name]!r} is not like '30s', '6h' or '1d'")
    for what, spec in [("scheduler.interval", settings["scheduler.interval"])] + [
        (f"lists.{lc.name}.schedule", lc.schedule) for lc in settings.lists if lc.schedule
    ]:
        if not _SCHEDULE.match(spec):
            raise ConfigError(
                f"{what}: {spec!r} is not like '30m', '6h', '1d' or 'cron: 0 * * * *'"
            )
    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"data_dir {data_dir} exists and is not a directory")


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data directory if needed (mode 0700: it holds password hashes and private
    mail), take group and other permissions off an existing one we own (with a log line),
    and check that it is writable."""
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = data_dir.stat()
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077 and info.st_uid == os.geteuid():
            data_dir.chmod(mode & 0o700)
            logger.info(
                "data_dir %s was open to others (mode %o): now %o", data_dir, mode, mode & 0o700
            )
    except OSError as exc:
        raise ConfigError(f"data_dir {data_dir} cannot be created: {exc.strerror}") from exc
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise ConfigError(
            f"data_dir {data_dir} is not writable (set --data-dir or LISTARCHIVE_DATA_DIR)"
        )
    return data_dir
