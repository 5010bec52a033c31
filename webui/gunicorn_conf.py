"""gunicorn settings file for the container (`gunicorn --config python:webui.gunicorn_conf
webui:create_app()`): the worker, threads and timeout of `listarchive serve`, from the
listarchive settings (`web.threads`, `web.timeout`; environment or TOML file)."""

from __future__ import annotations

from config.settings import load_settings
from webui.worker import server_options

_options = server_options(load_settings())

worker_class = _options["worker_class"]
threads = _options["threads"]
timeout = _options["timeout"]
keepalive = _options["keepalive"]
accesslog = _options["accesslog"]
control_socket_disable = _options["control_socket_disable"]
