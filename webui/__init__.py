"""Web UI (Flask).  `create_app` is the only place the app is assembled; it never starts the
scheduler.  Served by a WSGI server in production: `gunicorn "webui:create_app()"`.

This first slice serves the JSON API that later pages share (`/api/search`) and a health
check for the deployment (`/healthz`); the participant pages come with their own issue.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from config.settings import Settings, load_settings
from webui import api, errors, extensions

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    app = Flask(__name__)
    app.config["LISTARCHIVE_SETTINGS"] = settings or load_settings(overrides=overrides or None)
    extensions.init_app(app)
    app.register_blueprint(api.bp)
    errors.init_app(app)
    return app
