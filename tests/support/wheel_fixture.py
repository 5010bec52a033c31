"""The installed package for tests: one wheel and one venv per test session, outside the
checkout (`scripts/wheelenv.py`). CI builds them once with `scripts/smoke-wheel --venv DIR`
and passes DIR as LISTARCHIVE_WHEEL_VENV, so the suite reuses them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.wheelenv import WheelEnv, build_wheel, copy_context, existing_env, make_env

REUSE_VAR = "LISTARCHIVE_WHEEL_VENV"


@dataclass(frozen=True)
class Installed:
    env: WheelEnv
    context: Path
    """The build context the wheel was built from (a copy of the checkout)."""


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    scratch = tmp_path_factory.mktemp("wheel")
    context = copy_context(scratch / "context")
    reuse = os.environ.get(REUSE_VAR, "")
    if reuse:
        return Installed(existing_env(Path(reuse)), context)
    wheel = build_wheel(scratch / "dist", context)
    return Installed(make_env(scratch / "venv", wheel), context)
