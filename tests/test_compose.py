"""The deployment files: docker-compose.yml, Dockerfile, .env.example and the Elasticsearch
helper scripts that CI runs."""

from __future__ import annotations

import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import click
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
    assert {"elasticsearch", "web", "scheduler", "proxy"} <= set(compose["services"])


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
    # plain HTTP for this machine only; everyone else comes through the TLS proxy
    assert [str(port) for port in web["ports"]] == ["127.0.0.1:8000:8000"]
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


def _healthcheck(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), test
    return [str(part) for part in test]


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        health = service.get("healthcheck")
        assert health and health.get("test"), f"{name} has no healthcheck"
        assert not health.get("disable"), name
        assert {"interval", "timeout", "retries"} <= set(health), name


def test_web_healthcheck_asks_healthz(compose: dict[str, Any]) -> None:
    test = _healthcheck(_service(compose, "web"))
    # python:3.11-slim has no curl: the image's own Python asks /healthz (503 raises)
    assert test[:3] == ["CMD", "python", "-c"]
    assert "urllib.request.urlopen('http://127.0.0.1:8000/healthz'" in test[3]
    compile(test[3], "<healthcheck>", "exec")


def test_scheduler_healthcheck_is_a_real_command(compose: dict[str, Any]) -> None:
    test = _healthcheck(_service(compose, "scheduler"))
    assert test == ["CMD", "listarchive", "scheduler-health"]


def test_listarchive_commands_exist(compose: dict[str, Any]) -> None:
    """Every `listarchive ...` a service runs (command or healthcheck) is a CLI command."""
    from listarchive.cli import cli

    for name, service in compose["services"].items():
        for line in (service.get("command"), service.get("healthcheck", {}).get("test")):
            words = [str(w) for w in line] if isinstance(line, list) else str(line or "").split()
            words = [w for w in words if w not in ("CMD", "CMD-SHELL")]
            if words and words[0] == "listarchive":
                found = cli.get_command(click.Context(cli), words[1])
                assert found is not None, f"{name}: no command `{' '.join(words[:2])}`"


def test_no_stale_comments() -> None:
    text = _text(COMPOSE)
    assert "later issue" not in text and "usage error" not in text


def test_settings_file_mounted_read_only(compose: dict[str, Any]) -> None:
    dockerfile = _text(ROOT / "Dockerfile")
    workdirs = re.findall(r"^WORKDIR (\S+)$", dockerfile, re.MULTILINE)
    target = f"{workdirs[-1]}/config/listarchive.toml"  # DEFAULT_CONFIG_FILE, relative
    for name in ("web", "scheduler"):
        service = _service(compose, name)
        mounts = [v for v in service["volumes"] if isinstance(v, dict)]
        (config,) = [m for m in mounts if m["target"] == target]
        assert config["type"] == "bind" and config["read_only"] is True
        assert config["source"] == "./config/listarchive.toml"
        assert config["bind"]["create_host_path"] is False  # missing: an error, not a folder
        assert _environment(service)["LISTARCHIVE_CONFIG"] == target
    ignored = _text(ROOT / ".dockerignore").split()
    assert "config/listarchive.toml" in ignored  # mounted, never baked into the image


def test_archive_logins_reach_the_scheduler_only(compose: dict[str, Any]) -> None:
    def env_files(service: dict[str, Any]) -> list[str]:
        files = service.get("env_file", [])
        files = [files] if isinstance(files, str) else files
        return [str(f["path"] if isinstance(f, dict) else f) for f in files]

    scheduler = _service(compose, "scheduler")
    assert env_files(scheduler) == ["./archive-logins.env"]
    assert scheduler["env_file"][0]["required"] is False
    for name in ("web", "proxy", "elasticsearch"):
        assert not env_files(_service(compose, name)), name
    assert "archive-logins.env" in _text(ROOT / ".gitignore").split()
    assert "archive-logins.env" in _text(ROOT / ".dockerignore").split()
    assert "LISTARCHIVE_ARCHIVE_" in _text(ROOT / ".env.example")


def _interpolated(value: str) -> str:
    """`${VAR:-default}` with .env.example's value of VAR, else the default."""
    example = _env_example()

    def one(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":-")
        return example.get(name, default)

    return re.sub(r"\$\{([^}]+)\}", one, value)


def test_tls_proxy_in_front_of_the_web(compose: dict[str, Any]) -> None:
    import ipaddress

    proxy = _service(compose, "proxy")
    assert str(proxy["image"]).startswith("caddy:2")
    assert {"80:80", "443:443"} <= {str(p) for p in proxy["ports"]}
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    caddyfile = _volume_mounts(proxy)["/etc/caddy/Caddyfile"]
    text = _text(ROOT / caddyfile)
    assert re.search(r"^\s*reverse_proxy web:8000$", text, re.MULTILINE)
    assert re.search(r"^\s*tls \{\$LISTARCHIVE_TLS:internal\}$", text, re.MULTILINE)
    # the web believes X-Forwarded-* from the proxy's fixed address only
    address = _interpolated(str(proxy["networks"]["edge"]["ipv4_address"]))
    subnet = _interpolated(str(compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]))
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    web = _environment(_service(compose, "web"))
    assert _interpolated(web["LISTARCHIVE_WEB_TRUSTED_PROXIES"]) == address
    assert "edge" in _service(compose, "web")["networks"]
    for name in ("elasticsearch", "scheduler"):  # not reachable from the proxy's network
        assert _service(compose, name)["networks"] == ["backend"]
        assert "ports" not in _service(compose, name)


def test_cookies_secure_behind_the_proxy(compose: dict[str, Any]) -> None:
    web = _environment(_service(compose, "web"))
    assert _interpolated(web["LISTARCHIVE_WEB_SECURE_COOKIES"]) == "true"
    assert _interpolated(web["LISTARCHIVE_WEB_BASE_URL"]).startswith("https://")
    assert _env_example()["LISTARCHIVE_WEB_SECURE_COOKIES"] == "true"
    assert "LISTARCHIVE_WEB_SECURE_COOKIES" not in _environment(_service(compose, "scheduler"))


def test_ci_runs_the_wheel_smoke_test() -> None:
    ci = _text(ROOT / ".ci" / "run")
    assert "scripts/smoke-wheel" in _without_comments(ci)
    assert os.access(ROOT / "scripts" / "smoke-wheel", os.X_OK)
