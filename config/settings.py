"""Settings: each declared once (name, type, default, help), loaded in layers, checked at start-up.

Layers, later wins: code defaults, then the TOML file (`config/listarchive.toml` or `--config`),
then `LISTARCHIVE_*` environment variables (dots become underscores: `search.backend` is
`LISTARCHIVE_SEARCH_BACKEND`), then explicit overrides (command-line options).
Secrets never live here: they come from the environment only (see docs/configuration.md).

The settings are declared in `config.declared`, the TOML file's lists and communities parsed
in `config.tables`, single values checked in `config.checks`; their names are re-exported
here, where the rest of the code imports them from.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.checks import check_date as check_date
from config.checks import check_origin as check_origin
from config.checks import check_url as check_url
from config.declared import SETTINGS as SETTINGS
from config.declared import SETTINGS_BY_NAME as SETTINGS_BY_NAME
from config.declared import Setting as Setting
from config.errors import ConfigError as ConfigError
from config.tables import CommunityConfig as CommunityConfig
from config.tables import ListConfig as ListConfig
from config.tables import parse_communities as _parse_communities
from config.tables import parse_lists as _parse_lists

logger = logging.getLogger(__name__)

ENV_PREFIX = "LISTARCHIVE_"
_SCHEDULE = re.compile(r"^\s*(?:[1-9]\d*\s*[smhd]|cron:\s*\S+(?:\s+\S+){4})\s*$")
DEFAULT_CONFIG_FILE = Path("config/listarchive.toml")


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
        "web.figure_cache_bytes",
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
