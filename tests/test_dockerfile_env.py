"""The environment the Dockerfile builds, without a container engine (issue 12): a venv from
the wheel (the session's `installed`), the image's ENV and WORKDIR (the settings file mounted
under it as docker-compose.yml mounts it), and each compose service's own `command` and
`healthcheck` run as they are written, with the compose environment (Elasticsearch pointed at
the test node, the data directory a temporary one). Logins work with the cookies the compose
file sets: Secure behind a TLS proxy, and over plain HTTP with secure cookies off."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shlex
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.smoke_wheel import LIST_FOLDER, LIST_NAME, QUERY, serve_folder
from scripts.wheelenv import WheelEnv, free_port, stop, wait_http
from tests.search.conftest import ES_URL, delete_es_indices
from tests.support.tls_proxy import TlsProxy, self_signed
from tests.support.wheel_fixture import Installed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def final_stage() -> dict[str, Any]:
    """ENV, WORKDIR, USER, CMD and RUN of the Dockerfile's last stage (the image)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)
    last = [line.strip() for line in stages[-1].splitlines()]
    env: dict[str, str] = {}
    for line in last:
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value

    def one(keyword: str) -> str:
        (value,) = [line[len(keyword) + 1 :] for line in last if line.startswith(keyword + " ")]
        return value

    return {
        "from": last[0],
        "env": env,
        "workdir": one("WORKDIR"),
        "user": one("USER"),
        "cmd": json.loads(one("CMD")),
        "run": [line[4:] for line in last if line.startswith("RUN ")],
        "copy": [line[5:] for line in last if line.startswith("COPY ")],
        "build_stages": stages[1:-1],
    }


def compose_service(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    service: dict[str, Any] = data["services"][name]
    return service


def interpolate(value: str) -> str:
    """Compose's `${VAR}` / `${VAR:-default}` / `${VAR:?error}` with .env.example's values."""
    example = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, val = line.partition("=")
            example[key.strip()] = val.strip()

    def one(match: re.Match[str]) -> str:
        parts = re.match(r"(\w+)(?::?-(.*)|:?\?.*)?$", match.group(1), re.S)
        assert parts, match.group(0)
        return example.get(parts.group(1), parts.group(2) or "")

    return re.sub(r"\$\{([^}]+)\}", one, value)


def test_image_is_the_installed_wheel() -> None:
    stage = final_stage()
    assert stage["from"] == "python:3.11-slim"
    (build,) = stage["build_stages"]
    assert "pip wheel --no-deps -w /wheels ." in build
    assert stage["copy"] == ["--from=wheel /wheels /wheels"]  # no source tree in the image
    assert stage["run"][0].startswith("pip install /wheels/*.whl")
    assert stage["user"] != "root" and stage["workdir"] == "/app"
    assert stage["cmd"] == compose_service("web")["command"]


class Deployment:
    """The compose services' environment mapped onto this machine: /app -> `app`, /data ->
    `data`, the ES URL the test node's."""

    def __init__(self, env: WheelEnv, tmp: Path, overrides: Mapping[str, str]) -> None:
        self.wheel = env
        stage = final_stage()
        self.app = tmp / "app"  # WORKDIR
        (self.app / "config").mkdir(parents=True)
        self.data = tmp / "data"
        self.image_env = dict(stage["env"])
        self.image_env["LISTARCHIVE_DATA_DIR"] = str(self.data)
        self.overrides = dict(overrides)
        self.workdir = stage["workdir"]

    def config(self, text: str) -> Path:
        path = self.app / "config" / "listarchive.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def env(self, service: str) -> dict[str, str]:
        values = {
            key: interpolate(str(value))
            for key, value in compose_service(service)["environment"].items()
        }
        values = {
            key: value.replace(self.workdir, str(self.app))
            if key == "LISTARCHIVE_CONFIG"
            else value
            for key, value in values.items()
        }
        values["LISTARCHIVE_DATA_DIR"] = str(self.data)
        return self.wheel.env({**self.image_env, **values, **self.overrides})

    def popen(self, args: list[str], service: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            args,
            cwd=self.app,
            env=self.env(service),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, args: list[str], service: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.app, env=self.env(service), capture_output=True, text=True, **kw
        )

    def healthcheck(self, service: str, port: int | None = None) -> list[str]:
        test = [str(part) for part in compose_service(service)["healthcheck"]["test"]]
        assert test[0] == "CMD"
        if port is not None:
            test = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in test]
        return test[1:]

    @contextmanager
    def web(self) -> Iterator[int]:
        command = [str(part) for part in compose_service("web")["command"]]
        port = free_port()
        command[command.index("0.0.0.0:8000")] = f"127.0.0.1:{port}"
        process = self.popen(command, "web")
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", process)
            yield port
        finally:
            stop(process)


def until(check: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)


@pytest.mark.skipif(not ES_URL and not os.environ.get("CI"), reason="no Elasticsearch node")
def test_services_run_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    assert ES_URL, "CI is set but LISTARCHIVE_TEST_ES_URL is not"
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    deploy = Deployment(
        installed.env,
        tmp_path,
        {"LISTARCHIVE_SEARCH_URL": ES_URL, "LISTARCHIVE_SEARCH_INDEX": prefix},
    )
    la = deploy.wheel.exe("listarchive")
    try:
        with serve_folder(LIST_FOLDER) as archive:
            # the mounted settings file declares the list and a fast heartbeat
            deploy.config(
                f"[scheduler]\nheartbeat = 1\n\n[lists.{LIST_NAME}]\n"
                f'pipermail = "{archive}/{LIST_NAME}/"\n'
            )
            command = [str(part) for part in compose_service("scheduler")["command"]]
            assert command == ["listarchive", "scheduler"]
            scheduler = deploy.popen([la, *command[1:]], "scheduler")
            health = deploy.healthcheck("scheduler")
            assert health == ["listarchive", "scheduler-health"]
            health[0] = la
            try:
                until(lambda: deploy.run(health, "scheduler").returncode == 0, "scheduler healthy")

                def found() -> bool:
                    done = deploy.run([la, "search", QUERY, "--json"], "scheduler")
                    return done.returncode == 0 and json.loads(done.stdout)["total"] >= 5

                until(found, "the scheduler synced and indexed the declared list")
                with deploy.web() as port:
                    check = deploy.healthcheck("web", port)
                    check[0] = deploy.wheel.exe(check[0])
                    assert deploy.run(check, "web").returncode == 0
                    url = f"http://127.0.0.1:{port}/search.json?q={QUERY}"
                    with urllib.request.urlopen(url, timeout=30) as answer:
                        assert json.load(answer)["total"] >= 5
            finally:
                output = stop(scheduler)
            assert scheduler.returncode == 0, output
            assert "scheduler: stopped" in output
        time.sleep(2)  # the heartbeat is a second old at least: stale for a 1 s limit
        stale = deploy.run([la, "scheduler-health", "--max-age", "1"], "scheduler")
        assert stale.returncode == 1 and "scheduler unhealthy" in stale.stdout, stale.stdout
    finally:
        delete_es_indices(prefix)


# --- logins with the compose file's cookies ----------------------------------------------------


def _opener(context: ssl.SSLContext | None = None) -> tuple[Any, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    handlers: list[Any] = [urllib.request.HTTPCookieProcessor(jar)]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers), jar


def log_in(base: str, opener: Any, user: str) -> str:
    """Log in through the form; returns the URL a facilitator page ends on."""
    with opener.open(f"{base}/login", timeout=30) as answer:
        page = answer.read().decode()
    (token,) = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    form = {"username": user, "password": PASSWORD, "csrf_token": token}
    data = urllib.parse.urlencode(form).encode()
    with opener.open(f"{base}/login", data=data, timeout=30) as answer:
        assert answer.status == 200
    with opener.open(f"{base}/stats/people", timeout=30) as answer:
        assert answer.status == 200
        return str(answer.url)


@pytest.fixture()
def web_login(installed: Installed, tmp_path: Path) -> Iterator[Any]:
    """A factory: the compose web service (embedded search backend) with extra settings."""

    @contextmanager
    def start(**settings: str) -> Iterator[tuple[Deployment, int]]:
        overrides = {"LISTARCHIVE_SEARCH_BACKEND": "sqlite", **settings}
        deploy = Deployment(installed.env, tmp_path / uuid.uuid4().hex[:8], overrides)
        deploy.config("")
        add = [deploy.wheel.exe("listarchive"), "users", "add", "alice", "--role", "facilitator"]
        done = deploy.run([*add, "--password-stdin"], "web", input=f"{PASSWORD}\n")
        assert done.returncode == 0, done.stderr
        with deploy.web() as port:
            yield deploy, port

    yield start


def test_login_over_plain_http_with_secure_cookies_off(web_login: Any) -> None:
    with web_login(LISTARCHIVE_WEB_SECURE_COOKIES="false") as (_, port):
        opener, jar = _opener()
        base = f"http://127.0.0.1:{port}"
        assert log_in(base, opener, "alice") == f"{base}/stats/people"
        (cookie,) = [c for c in jar if c.name == "listarchive_session"]
        assert not cookie.secure


def test_login_behind_the_tls_proxy_with_secure_cookies(web_login: Any, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    proxy_port = free_port()
    env = {"LISTARCHIVE_WEB_TRUSTED_PROXIES": "127.0.0.1"}  # the proxy's address
    env["LISTARCHIVE_WEB_BASE_URL"] = f"https://localhost:{proxy_port}"
    with web_login(**env) as (deploy, port):
        assert deploy.env("web")["LISTARCHIVE_WEB_SECURE_COOKIES"] == "true"  # compose default
        proxy = TlsProxy(("127.0.0.1", port), cert, key, port=proxy_port)
        proxy.start()
        try:
            opener, jar = _opener(context)
            base = f"https://localhost:{proxy.port}"
            assert log_in(base, opener, "alice") == f"{base}/stats/people"
            (cookie,) = [c for c in jar if c.name == "__Host-listarchive"]
            assert cookie.secure and cookie.path == "/" and not cookie.domain_specified
        finally:
            proxy.stop()


def test_secure_cookies_do_not_log_in_over_plain_http(web_login: Any) -> None:
    """Why the plain-HTTP port needs LISTARCHIVE_WEB_SECURE_COOKIES=false (README): the Secure
    session cookie never comes back over http://, so the login form's CSRF check fails."""
    with web_login() as (_, port):
        opener, _ = _opener()
        with pytest.raises(urllib.error.HTTPError) as refused:
            log_in(f"http://127.0.0.1:{port}", opener, "alice")
        refused.value.close()
        assert refused.value.code == 400
