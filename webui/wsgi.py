"""Serving the web UI under gunicorn: `gunicorn webui.wsgi:application`, or programmatically
(`listarchive serve`) through `GunicornApp`, never Flask's development server."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from config.settings import Settings
from webui import create_app
from webui.worker import server_options

logger = logging.getLogger(__name__)


class GunicornApp(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving one already-built Flask app with the given options."""

    def __init__(self, app: Flask, options: dict[str, Any] | None = None) -> None:
        self.app = app
        self.options = options or {}
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings and value is not None:
                self.cfg.set(name.lower(), value)

    def load(self) -> Flask:
        return self.app


def gunicorn_options(settings: Settings, host: str, port: int, workers: int) -> dict[str, Any]:
    """The gunicorn settings of `listarchive serve`: `server_options` plus where to listen."""
    return {"bind": f"{host}:{port}", "workers": workers, **server_options(settings)}


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 2) -> None:
    """Run the web UI for `settings` until interrupted."""
    options = gunicorn_options(settings, host, port, workers)
    logger.info(
        "serving the web UI on http://%s:%d/ (%d workers x %d threads)",
        host,
        port,
        workers,
        options["threads"],
    )
    GunicornApp(create_app(settings), options).run()


def application_factory() -> Flask:
    return create_app()


def __getattr__(name: str) -> Any:
    """`application`, the WSGI callable for `gunicorn webui.wsgi:application` (settings from
    the environment), is built when first asked for, not on import: `listarchive serve`
    imports this module with settings of its own, and create_app checks the data directory."""
    if name == "application":
        app = application_factory()
        globals()["application"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
