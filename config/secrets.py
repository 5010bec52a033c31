"""Credentials of private archives: from the environment or a secrets file, never the repo.

A list's archive login (a Mailman 2 member address and password) is looked up by the list's
name in listarchive:

1. the environment: ``LISTARCHIVE_ARCHIVE_<NAME>_USERNAME`` and ``..._PASSWORD``, where
   ``<NAME>`` is the list name upper-cased with every non-alphanumeric character turned into
   ``_`` (``bpf-cybersecurity`` -> ``LISTARCHIVE_ARCHIVE_BPF_CYBERSECURITY_USERNAME``);
2. the TOML file named by ``LISTARCHIVE_SECRETS_FILE``, one table per list::

       [archives.bpf-cybersecurity]
       username = "secretariat@example.org"
       password = "..."

The file must live outside the repository (a file under ``./config/`` is refused, so it can
never be committed next to ``listarchive.toml``) and should be readable by its owner only
(a group- or world-readable file is used, with a warning).  Passwords are never logged and
never part of a ``repr``.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import DEFAULT_CONFIG_FILE, ENV_PREFIX, ConfigError

logger = logging.getLogger(__name__)

SECRETS_FILE_VAR = ENV_PREFIX + "SECRETS_FILE"


class SecretsError(ConfigError):
    """Credentials are configured but unusable; the message says where and why (never what)."""


@dataclass(frozen=True, slots=True)
class ArchiveCredentials:
    """A member login for one private archive."""

    username: str
    password: str = field(repr=False)
    origin: str = ""
    """Where they came from (`environment` or the secrets file path), for messages."""


def env_names(list_name: str) -> tuple[str, str]:
    """The (username, password) environment variable names for `list_name`."""
    stem = ENV_PREFIX + "ARCHIVE_" + re.sub(r"[^A-Z0-9]", "_", list_name.upper())
    return stem + "_USERNAME", stem + "_PASSWORD"


def archive_credentials(
    list_name: str, env: Mapping[str, str] | None = None
) -> ArchiveCredentials | None:
    """The login for `list_name` (environment first, then the secrets file), or None.

    Raises `SecretsError` when they are half given or the secrets file cannot be used."""
    env = os.environ if env is None else env
    user_var, password_var = env_names(list_name)
    username, password = env.get(user_var, ""), env.get(password_var, "")
    if username or password:
        if not (username and password):
            missing = password_var if username else user_var
            raise SecretsError(f"{missing} is not set (both username and password are needed)")
        return ArchiveCredentials(username, password, "environment")
    path = env.get(SECRETS_FILE_VAR, "")
    if not path:
        return None
    return load_secrets_file(Path(path)).get(list_name)


def load_secrets_file(path: Path) -> dict[str, ArchiveCredentials]:
    """Every `[archives.NAME]` login in the secrets file at `path`."""
    path = path.expanduser()
    config_dir = DEFAULT_CONFIG_FILE.parent.resolve()
    resolved = path.resolve()
    if config_dir == resolved.parent or config_dir in resolved.parents:
        raise SecretsError(
            f"{SECRETS_FILE_VAR}: {path} is inside {config_dir}: keep secrets outside the "
            "repository"
        )
    try:
        mode = path.stat().st_mode
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise SecretsError(f"{SECRETS_FILE_VAR}: {path} does not exist") from exc
    except OSError as exc:
        raise SecretsError(f"{SECRETS_FILE_VAR}: {path} cannot be read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        # the decoder's message quotes no content, only the position
        raise SecretsError(f"{SECRETS_FILE_VAR}: {path} is not valid TOML: {exc}") from exc
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning(
            "secrets file %s is readable by other users: restrict it (chmod 600 %s)", path, path
        )
    archives = data.get("archives", {})
    if not isinstance(archives, dict):
        raise SecretsError(f"{path}: `archives` must be a table of [archives.NAME] tables")
    found: dict[str, ArchiveCredentials] = {}
    for name, spec in archives.items():
        username = spec.get("username") if isinstance(spec, dict) else None
        password = spec.get("password") if isinstance(spec, dict) else None
        if not isinstance(username, str) or not isinstance(password, str):
            raise SecretsError(f"{path}: [archives.{name}] needs string `username` and `password`")
        if not username or not password:
            raise SecretsError(f"{path}: [archives.{name}] has an empty username or password")
        found[name] = ArchiveCredentials(username, password, str(path))
    return found
