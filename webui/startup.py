"""Start-up checks of the web UI: fail at once, with a clear error, when the data directory or
the store cannot be used as the web needs (it writes sessions and login attempts into the
store), instead of starting and answering every page with a 500.

A store that is damaged or not there yet does not stop the start: pages answer 503 with the
reason and `/healthz` says what is unhealthy (the store can be restored while the web runs).
Nor does a store whose schema is newer than this program (a downgrade): every route answers
503 naming both versions (`refuse_newer_store`), so a backup of this version can be restored
without a restart.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from flask import Flask, request

from config.settings import ConfigError, Settings, ensure_data_dir
from search.factory import SQLITE_FILENAME
from store import files
from store.errors import StoreVersionError
from store.store import Store, StoreError
from webui.errors import HEALTH_PATH
from webui.extensions import get_store
from webui.sessions import SECRET_FILE

logger = logging.getLogger(__name__)


def check_data_dir(settings: Settings) -> None:
    """ConfigError unless the data directory and the store's files in it can be read and
    written by this process; created (mode 0700) when missing."""
    try:
        data_dir = ensure_data_dir(settings)
    except ConfigError as exc:
        raise ConfigError(f"{exc}; the web UI writes sessions and login attempts there") from exc
    needed = _databases(settings, data_dir)
    for path in needed:
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(
                f"{path} cannot be read and written by this user (uid {os.geteuid()}): "
                "the web UI writes sessions and login attempts to the store; fix the file's "
                "owner or mode (chown, chmod 600)"
            )
    secret = data_dir / SECRET_FILE
    if secret.exists() and not os.access(secret, os.R_OK):
        raise ConfigError(f"{secret} cannot be read by this user (uid {os.geteuid()})")
    try:
        Store(settings.store_path, readonly=True).close()
    except StoreError as exc:
        logger.error("the web UI starts, but answers 503 until the store is usable: %s", exc)


def _databases(settings: Settings, data_dir: Path) -> list[Path]:
    paths = [settings.store_path]
    if settings["search.backend"] == "sqlite":
        paths.append(data_dir / SQLITE_FILENAME)
    return [p for path in paths for p in (path, *files.side_files(path))]


# Package data the pages need: a wheel built without them (issue 12) served 500s, not an error.
PACKAGE_FILES = ("templates/base.html", "templates/error.html", "static/style.css")


def check_package_files(app: Flask) -> None:
    """ConfigError when the templates or static files are missing from the installed package,
    so the web refuses to start instead of answering 500 to every page."""
    missing = [name for name in PACKAGE_FILES if not (Path(app.root_path) / name).is_file()]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} missing from the installed package under {app.root_path}:"
            " reinstall listarchive"
        )


def refuse_newer_store() -> None:
    """Before every request: StoreVersionError (a 503 naming both versions, from the one error
    handler) when the store's schema is newer than this program's, so no page, form or login
    reads or writes a store it does not know.  Static files are served (the error page keeps
    its style) and `/healthz` says it in its own shape (`webui.health`).  A store that is
    missing or damaged is left to the pages, which say so."""
    if request.endpoint == "static" or request.path == HEALTH_PATH:
        return
    try:
        get_store()  # the read-only opener checks the version (`store.schema.checked_version`)
    except StoreVersionError:
        raise
    except (StoreError, sqlite3.Error):
        return


def init_app(app: Flask) -> None:
    app.before_request(refuse_newer_store)
