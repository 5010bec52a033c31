"""The installed package, as the Docker image has it: build the wheel from the build context
(the checkout minus `.dockerignore`), install it into a fresh venv outside the checkout, and run
its commands from a directory where the source tree cannot be imported.

Standard library only, so that any Python 3.11 can drive it (`scripts/smoke-wheel`, and the
tests' session fixture in `tests/support/wheel_fixture.py`).
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Files inside the package folders that the installed code never reads (build inputs).
NOT_SHIPPED = ("webui/assets/",)


class SmokeError(Exception):
    """A step of the installed package failed; the message says which and shows its output."""


def context_files(root: Path = ROOT) -> list[Path]:
    """The Docker build context: every file under `root` not excluded by `.dockerignore`
    (its patterns as Docker reads them: a path, a glob, `**/` for any depth)."""
    patterns = [
        line.strip().rstrip("/")
        for line in (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]

    def ignored(rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for pattern in patterns:
            bare = pattern.removeprefix("**/")
            for prefix in prefixes:
                if fnmatch.fnmatchcase(prefix, pattern):
                    return True
                if bare != pattern and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], bare):
                    return True
        return False

    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        rel_dir = base.relative_to(root).as_posix()
        keep = []
        for name in dirnames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not ignored(rel):
                keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not ignored(rel):
                found.append(base / name)
    return found


def copy_context(dest: Path, root: Path = ROOT) -> Path:
    """Copy the build context to `dest` (a build never writes into the checkout)."""
    for path in context_files(root):
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return dest


def package_folders(root: Path = ROOT) -> list[str]:
    """Top-level packages the wheel ships (pyproject's `packages.find.include`)."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = data["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({str(pattern).rstrip("*") for pattern in include})


def build_wheel(out: Path, context: Path) -> Path:
    """Build the wheel as the Dockerfile's build stage does (`pip wheel --no-deps`) from a copy
    of the build context (`copy_context`); returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."]
    run(args, cwd=context, env=base_env())
    wheels = sorted(out.glob("listarchive-*.whl"))
    if len(wheels) != 1:
        raise SmokeError(f"expected one wheel in {out}, found {[w.name for w in wheels]}")
    return wheels[0]


def missing_from_wheel(wheel: Path, context: Path) -> list[str]:
    """Files of the build context (a copy: `copy_context`) inside the package folders that the
    wheel lacks (data files the installed code reads: mappings, templates, static assets)."""
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    folders = tuple(f"{name}/" for name in package_folders(context))
    missing = []
    for path in context_files(context):
        rel = path.relative_to(context).as_posix()
        if rel.startswith(folders) and not rel.startswith(NOT_SHIPPED) and rel not in shipped:
            missing.append(rel)
    return sorted(missing)


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: no PYTHONPATH, no LISTARCHIVE_* or VIRTUAL_ENV from the caller."""
    env = {
        name: os.environ[name]
        for name in ("HOME", "LANG", "LC_ALL", "TMPDIR", "PIP_INDEX_URL", "PIP_CACHE_DIR")
        if name in os.environ
    }
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env.setdefault("LANG", "C.UTF-8")
    env.update(extra or {})
    return env


def run(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    input: str | None = None,
    timeout: float = 600,
    expect: int | None = 0,
) -> subprocess.CompletedProcess[str]:
    """Run a command; a different exit status than `expect` is a SmokeError with its output."""
    done = subprocess.run(
        list(args),
        cwd=cwd,
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if expect is not None and done.returncode != expect:
        raise SmokeError(
            f"`{' '.join(args)}` exited {done.returncode} (expected {expect})\n"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done


@dataclass(frozen=True)
class WheelEnv:
    """A venv with the wheel (and its dependencies from the index) installed."""

    venv: Path
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def exe(self, name: str) -> str:
        return str(self.bin / name)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = base_env(extra)
        env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(self.venv)
        return env

    def check_installed(self, cwd: Path) -> dict[str, str]:
        """Where each package is imported from, run in `cwd`; every one must be in the venv."""
        code = (
            "import json, importlib; print(json.dumps({n: importlib.import_module(n).__file__"
            f" for n in {package_folders()!r}}}))"
        )
        done = run([self.exe("python"), "-c", code], cwd=cwd, env=self.env())
        paths: dict[str, str] = json.loads(done.stdout)
        venv = self.venv.resolve()
        outside = {n: p for n, p in paths.items() if venv not in Path(p).resolve().parents}
        if outside:
            raise SmokeError(f"imported from outside the venv {venv}: {outside}")
        return paths


def make_env(venv: Path, wheel: Path) -> WheelEnv:
    """A fresh venv at `venv` with `wheel` installed as the Dockerfile installs it (`pip
    install` of the wheel, its dependencies from the package index); the wheel is kept in the
    venv (`existing_env` reuses the pair)."""
    if venv.exists():
        shutil.rmtree(venv)
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent, env=base_env())
    kept = venv / "wheel" / wheel.name
    kept.parent.mkdir()
    shutil.copy2(wheel, kept)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    pip += ["--disable-pip-version-check", str(kept)]
    run(pip, cwd=venv.parent, env=base_env())
    return WheelEnv(venv, kept)


def existing_env(venv: Path) -> WheelEnv:
    """The venv `make_env` built at `venv` (CI builds it once, for the smoke and the tests)."""
    wheels = sorted((venv / "wheel").glob("listarchive-*.whl"))
    if len(wheels) != 1 or not (venv / "bin" / "listarchive").is_file():
        raise SmokeError(f"{venv} is not a venv made by scripts/smoke-wheel --venv")
    return WheelEnv(venv, wheels[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait until `url` answers (any status) while `process` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SmokeError(f"{url}: the server exited {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError as exc:
            exc.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SmokeError(f"{url} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """SIGTERM, wait, and return what the process wrote (stdout and stderr, merged)."""
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise SmokeError(f"pid {process.pid} did not stop on SIGTERM:\n{output[-4000:]}") from None
    return output or ""
