"""Web UI (Flask).  `create_app` is the only place the app is assembled; it never starts the
scheduler.  Served by a WSGI server in production: `gunicorn "webui:create_app()"`.

Blueprints: the reading pages (`pages`: home, lists, periods, threads, messages, with their
JSON twins), the JSON API and health check (`api`), search pages, exports, OpenAPI, the
pipermail redirects and login/logout (`auth`).  `views.init_app` adds the security headers
(CSP, nosniff, referrer policy) to every response; `auth.init_app` the session cookie and the
CSRF check; `errors.init_app` installs the one error handler (HTML or JSON).  Before any of
that, `startup.check_data_dir` refuses to build an app that could not write its data
directory and store (ConfigError, with the reason).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache, FileSystemBytecodeCache

from analytics import frame
from config.settings import Settings, load_settings
from webui import (
    api,
    attachments,
    audit_pages,
    auth,
    errors,
    exports,
    extensions,
    feeds,
    health,
    meeting_pages,
    openapi,
    ops_pages,
    pages,
    person_pages,
    removal_pages,
    search_pages,
    startup,
    stats_pages,
    stats_prepare,
    urls,
    views,
)
from webui import pipermail as pipermail_redirects

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    app = Flask(__name__)
    _cache_templates(app)
    app.config["LISTARCHIVE_SETTINGS"] = settings or load_settings(overrides=overrides or None)
    startup.check_data_dir(app.config["LISTARCHIVE_SETTINGS"])  # ConfigError: cannot serve
    frame.set_cache_posts(app.config["LISTARCHIVE_SETTINGS"]["web.frame_cache_posts"])
    stats_prepare.init_snapshots(app)  # frame snapshots kept in the store (issue 14)
    startup.check_package_files(app)  # ConfigError: templates or static files not installed
    extensions.init_app(app)
    startup.init_app(app)  # a store newer than this program: 503 on every route
    health.init_app(app)  # damage met by any request turns /healthz to 503
    views.init_app(app)
    auth.init_app(app)  # session cookie and key, CSRF check on every POST/PUT/PATCH/DELETE
    urls.init_app(app)  # absolute URLs from web.base_url; only trusted proxies' headers
    # -- blueprints: one register_blueprint line each ------------------------------------------
    app.register_blueprint(pages.bp)
    app.register_blueprint(attachments.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pipermail_redirects.bp)
    app.register_blueprint(search_pages.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(person_pages.bp)
    app.register_blueprint(stats_pages.bp)
    app.register_blueprint(audit_pages.bp)
    app.register_blueprint(meeting_pages.bp)
    app.register_blueprint(ops_pages.bp)
    app.register_blueprint(removal_pages.bp)
    # -- end of blueprints ---------------------------------------------------------------------
    errors.init_app(app)
    return app


def _cache_templates(app: Flask) -> None:
    """Compiled templates kept between processes (task DB5): a fresh worker's first page
    reads its templates' code instead of compiling them (0.1-0.25 s a page).  Jinja's own
    per-user temporary directory (made 0700 and checked to be the user's): no setting, the
    data directory untouched; each file is written to a temporary name and renamed, so
    several workers may fill it at once; an entry is keyed by the template's path and used
    only while its source's checksum and the Python and Jinja versions match."""
    cache: BytecodeCache | None
    try:
        cache = FileSystemBytecodeCache()
    except (OSError, RuntimeError) as exc:  # no safe temporary directory: compile as before
        logger.warning("templates compiled in each process: %s", exc)
        cache = None
    app.jinja_options = {**app.jinja_options, "bytecode_cache": cache}
