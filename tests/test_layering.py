"""Imports point one way: ingest -> store, search -> store, analytics -> store,
webui -> search, analytics, store; config underneath; store imports none of them; ingest never
imports Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "config": {"store", "ingest", "search", "analytics", "webui", "listarchive", "flask"},
    "store": {"config", "ingest", "search", "analytics", "webui", "listarchive", "flask"},
    "ingest": {"search", "analytics", "webui", "listarchive", "flask"},
    "search": {"ingest", "analytics", "webui", "listarchive", "flask"},
    "analytics": {"ingest", "search", "webui", "listarchive", "flask"},
    "webui": {"ingest", "listarchive"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files
    bad = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in files
        for name in _imports(path) & FORBIDDEN[package]
    }
    assert bad == set()
