"""Compiled templates kept between processes (task DB5, `webui._cache_templates`): an app
made after another rendered a page renders it from the kept code, compiling nothing, as a
fresh worker's first page does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2 import FileSystemBytecodeCache

from config.settings import load_settings
from webui import create_app


def _page(data: Path, url: str) -> None:
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    response = app.test_client().get(url)
    assert response.status_code == 200, url


def test_a_second_app_compiles_no_template(
    webui_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = ("/", "/stats")
    for url in urls:  # fills the cache (or finds it full)
        _page(webui_data, url)
    compiled: list[str | None] = []
    compile_ = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: Any, name: Any = None, *a: Any) -> Any:
        compiled.append(name)
        return compile_(self, source, name, *a)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    for url in urls:
        _page(webui_data, url)
    assert compiled == []


def test_without_a_safe_temporary_directory_templates_are_compiled(
    webui_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: FileSystemBytecodeCache, *args: Any) -> None:
        raise RuntimeError("no safe directory")

    monkeypatch.setattr(FileSystemBytecodeCache, "__init__", refuse)
    app = create_app(load_settings(env={}, overrides={"data_dir": webui_data}))
    assert app.jinja_env.bytecode_cache is None
    assert app.test_client().get("/").status_code == 200
