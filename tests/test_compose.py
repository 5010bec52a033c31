"""The deployment files: docker-compose.yml, Dockerfile, .env.example and the Elasticsearch
helper scripts that CI runs."""

from __future__ import annotations

import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ES_SCRIPT = ROOT / "scripts" / "elasticsearch"

# ${VAR}, ${VAR:?message}, ${VAR:-default} and $VAR, but not the $$ escape (which leaves a
# literal $ for the container's shell).
_INTERPOLATION = re.compile(
    r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _without_comments(text: str) -> str:
    return "\n".join(
        line.split(" #", 1)[0] for line in text.splitlines() if not line.lstrip().startswith("#")
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(_text(COMPOSE))
    assert isinstance(data, dict)
    return data


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert isinstance(services, dict)
    service = services[name]
    assert isinstance(service, dict)
    return service


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        pairs = (str(item).split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}
    assert isinstance(env, dict)
    return {str(key): str(value) for key, value in env.items()}


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of the service's volume mounts (short or long syntax)."""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[str(volume["target"])] = str(volume.get("source", ""))
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    return mounts


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in _text(ROOT / ".env.example").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _es_version() -> str:
    match = re.search(r"^ES_VERSION=(\S+)$", _text(ES_SCRIPT), re.MULTILINE)
    assert match, "scripts/elasticsearch pins ES_VERSION"
    return match.group(1)


def test_services(compose: dict[str, Any]) -> None:
    assert "version" not in compose  # obsolete in the compose specification
    assert {"elasticsearch", "web", "scheduler"} <= set(compose["services"])


def test_elasticsearch_service(compose: dict[str, Any]) -> None:
    es = _service(compose, "elasticsearch")
    assert es["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{_es_version()}"
    env = _environment(es)
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "true"
    assert re.fullmatch(r"\$\{ELASTIC_PASSWORD(:\?[^}]*)?\}", env["ELASTIC_PASSWORD"])
    assert re.search(r"-Xmx\d+[mg]", env["ES_JAVA_OPTS"])
    memlock = es["ulimits"]["memlock"]
    assert memlock == {"soft": -1, "hard": -1} or memlock == -1
    assert not any(source.startswith((".", "/")) for source in _volume_mounts(es).values())
    assert "/usr/share/elasticsearch/data" in _volume_mounts(es)


def test_elasticsearch_healthcheck(compose: dict[str, Any]) -> None:
    health = _service(compose, "elasticsearch")["healthcheck"]
    test = health["test"]
    command = " ".join(test) if isinstance(test, list) else str(test)
    assert "curl" in command and "_cluster/health" in command
    # The password comes from the container's environment ($$ escapes compose interpolation).
    assert re.search(r"-u\s+\"?elastic:\$\$\{?ELASTIC_PASSWORD\b", command)


def test_no_literal_password() -> None:
    text = _text(COMPOSE)
    example = _env_example()["ELASTIC_PASSWORD"]
    assert example and example not in text
    for match in re.finditer(r"^\s*-?\s*\"?(\w*PASSWORD)\"?\s*[:=]\s*(.*)$", text, re.MULTILINE):
        value = match.group(2).strip().strip("\"'")
        assert re.fullmatch(r"\$\{\w+(:\?[^}]*)?\}", value), f"{match.group(1)}: {value}"


@pytest.mark.parametrize("name", ["web", "scheduler"])
def test_app_services(compose: dict[str, Any], name: str) -> None:
    service = _service(compose, name)
    assert service["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    env = _environment(service)
    assert env["LISTARCHIVE_SEARCH_BACKEND"] == "elasticsearch"
    assert env["LISTARCHIVE_SEARCH_URL"] == "http://elasticsearch:9200"
    assert env["LISTARCHIVE_SEARCH_USERNAME"] == "elastic"
    assert env["LISTARCHIVE_SEARCH_PASSWORD"] == "${ELASTIC_PASSWORD}"
    assert env["LISTARCHIVE_DATA_DIR"] == "/data"
    assert "build" in service or "image" in service


def test_web_and_scheduler_share_data(compose: dict[str, Any]) -> None:
    web = _volume_mounts(_service(compose, "web"))
    scheduler = _volume_mounts(_service(compose, "scheduler"))
    assert web["/data"] == scheduler["/data"]
    assert web["/data"] in compose["volumes"]


def test_web_runs_gunicorn(compose: dict[str, Any]) -> None:
    web = _service(compose, "web")
    command = _command(web)
    assert command.startswith("gunicorn ") and "webui:create_app()" in command
    assert "flask" not in command
    assert "8000:8000" in [str(port) for port in web["ports"]]
    dockerfile = _text(ROOT / "Dockerfile")
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.MULTILINE)
    cmd = re.search(r"^CMD (.*)$", dockerfile, re.MULTILINE)
    assert cmd and "gunicorn" in cmd.group(1) and "webui:create_app()" in cmd.group(1)
    assert "flask run" not in dockerfile
    # slow clients must not starve the workers: both take the worker, threads and timeout
    # of `listarchive serve` from webui/gunicorn_conf.py (no --worker-class of their own)
    for line in (command, " ".join(json.loads(cmd.group(1)))):
        assert "--config python:webui.gunicorn_conf" in line, line
        assert "--worker-class" not in line and "-k " not in line, line


def test_gunicorn_conf_uses_the_buffering_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.workers.gthread import ThreadWorker

    from webui.worker import BufferingThreadWorker

    monkeypatch.setenv("LISTARCHIVE_WEB_THREADS", "3")
    monkeypatch.setenv("LISTARCHIVE_WEB_TIMEOUT", "17")
    conf = importlib.reload(importlib.import_module("webui.gunicorn_conf"))
    module, _, name = conf.worker_class.rpartition(".")
    assert getattr(importlib.import_module(module), name) is BufferingThreadWorker
    assert issubclass(BufferingThreadWorker, ThreadWorker)
    assert (conf.threads, conf.timeout) == (3, 17)


def test_scheduler_command(compose: dict[str, Any]) -> None:
    assert _command(_service(compose, "scheduler")) == "listarchive scheduler"


def test_variables_defined_in_env_example() -> None:
    used = {a or b for a, b in _INTERPOLATION.findall(_without_comments(_text(COMPOSE)))}
    assert "ELASTIC_PASSWORD" in used
    assert used <= set(_env_example()), used - set(_env_example())


def test_volumes_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for source in _volume_mounts(service).values():
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name}: volume {source} is not declared"


def test_ignore_files() -> None:
    gitignore = _text(ROOT / ".gitignore").split()
    assert ".env" in gitignore and ".cache/" in gitignore
    dockerignore = _text(ROOT / ".dockerignore").split()
    assert {".venv", "var", ".cache", ".git"} <= set(dockerignore)


def test_elasticsearch_script_and_ci() -> None:
    assert os.access(ES_SCRIPT, os.X_OK)
    assert _es_version().startswith("9.")  # the Python client's major must match
    ci = _text(ROOT / ".ci" / "run")
    assert "scripts/elasticsearch start" in ci
    assert "scripts/elasticsearch stop" in ci
    assert "LISTARCHIVE_TEST_ES_URL" in ci
