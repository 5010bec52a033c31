"""The vendored Chart.js and axe-core are exactly what webui/assets pins (scripts/vendor-assets made
them); pages load Chart.js only from this site; axe-core (browser tests only) is never served."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import render_template_string

from config.settings import load_settings
from webui import create_app

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "webui/static/vendor"
ASSETS = REPO / "webui/assets"


def _records() -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in json.loads((VENDOR / "VENDOR.json").read_text())["packages"]}


@pytest.mark.parametrize("name", ["chart.js", "axe-core"])
def test_vendored_files_match_their_record_and_the_pins(name: str) -> None:
    record = _records()[name]
    package = json.loads((ASSETS / "package.json").read_text())
    lock = json.loads((ASSETS / "package-lock.json").read_text())
    data = (REPO / record["path"]).read_bytes()

    assert hashlib.sha256(data).hexdigest() == record["sha256"]
    pin = package["dependencies"][name]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), "pin an exact version"
    assert record["version"] == pin == lock["packages"][f"node_modules/{name}"]["version"]
    assert lock["packages"][""]["dependencies"][name] == pin
    assert record["integrity"] == lock["packages"][f"node_modules/{name}"]["integrity"]
    assert record["integrity"].startswith("sha512-")
    for bundled in record["bundles"]:
        locked = lock["packages"][f"node_modules/{bundled['name']}"]
        assert (bundled["version"], bundled["integrity"]) == (
            locked["version"],
            locked["integrity"],
        )
    assert (REPO / record["licence"]).is_file()
    assert set(package["dependencies"]) == set(_records()), "every pin is vendored and recorded"


def test_chartjs_is_served_and_axe_is_not() -> None:
    chart, axe = _records()["chart.js"], _records()["axe-core"]
    assert chart["license"] == "MIT" and axe["license"] == "MPL-2.0"
    chart_data = (REPO / chart["path"]).read_bytes()
    assert chart_data.startswith(f"/*!\n * Chart.js v{chart['version']}\n".encode())
    assert (REPO / axe["path"]).read_bytes().startswith(f"/*! axe v{axe['version']}".encode())
    # axe-core is for the browser tests only: outside the static folder, never in a template
    assert chart["served"] and chart["path"].startswith("webui/static/")
    assert not axe["served"] and not axe["path"].startswith("webui/static/")
    for template in (REPO / "webui/templates").glob("*.html"):
        assert "axe" not in template.read_text(), template


def test_axe_is_not_served(data_dir: Path) -> None:
    client = create_app(load_settings(env={}, overrides={"data_dir": data_dir})).test_client()
    for path in ("/static/vendor/axe.min.js", "/static/axe.min.js", "/assets/vendor/axe.min.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        response.close()


def test_chart_macro_and_scripts(data_dir: Path) -> None:
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    template = (
        '{% from "_macros.html" import chart, chart_scripts %}'
        '{{ chart("/stats.json", "months", "month", ["messages", "senders"], "bar", '
        '"Messages <per> month", series_labels=["Messages", "Senders"]) }}{{ chart_scripts() }}'
    )
    with app.test_request_context("/stats"):
        html = render_template_string(template)
    assert 'class="chart"' in html
    assert 'data-src="/stats.json"' in html and 'data-path="months"' in html
    assert 'data-x="month"' in html and 'data-series="messages,senders"' in html
    assert 'data-labels="Messages,Senders"' in html and 'data-kind="bar"' in html
    assert "<figcaption>Messages &lt;per&gt; month</figcaption>" in html
    scripts = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert scripts == ["/static/vendor/chart.umd.min.js", "/static/charts.js"]


def test_static_chart_files_are_served(data_dir: Path) -> None:
    client = create_app(load_settings(env={}, overrides={"data_dir": data_dir})).test_client()
    for path in ("/static/vendor/chart.umd.min.js", "/static/charts.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert "javascript" in (response.mimetype or "")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        response.close()
