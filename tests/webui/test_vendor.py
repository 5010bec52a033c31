"""The vendored Chart.js is exactly what webui/assets pins (scripts/vendor-assets made it), and
pages load it only from this site."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import render_template_string

from config.settings import load_settings
from webui import create_app

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "webui/static/vendor"
ASSETS = REPO / "webui/assets"


def test_vendored_chartjs_matches_its_record_and_the_pins() -> None:
    record = json.loads((VENDOR / "VENDOR.json").read_text())
    package = json.loads((ASSETS / "package.json").read_text())
    lock = json.loads((ASSETS / "package-lock.json").read_text())
    data = (VENDOR / record["file"]).read_bytes()

    assert record["name"] == "chart.js" and record["license"] == "MIT"
    assert hashlib.sha256(data).hexdigest() == record["sha256"]
    pin = package["dependencies"]["chart.js"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin), "pin an exact version"
    assert record["version"] == pin == lock["packages"]["node_modules/chart.js"]["version"]
    assert lock["packages"][""]["dependencies"]["chart.js"] == pin
    assert record["integrity"] == lock["packages"]["node_modules/chart.js"]["integrity"]
    assert record["integrity"].startswith("sha512-")
    assert data.startswith(f"/*!\n * Chart.js v{pin}\n".encode())
    for bundled in record["bundles"]:
        locked = lock["packages"][f"node_modules/{bundled['name']}"]
        assert (bundled["version"], bundled["integrity"]) == (
            locked["version"],
            locked["integrity"],
        )
    assert (VENDOR / "chart.js.LICENSE.md").is_file()


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
