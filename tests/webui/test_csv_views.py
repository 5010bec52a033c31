"""CSV twins: `render(..., table=CsvTable(...))` answers a page's `.csv` path with the numbers,
safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue

from config.settings import load_settings
from store.store import Store
from webui import create_app
from webui.views import CsvTable, csv_cell, render, wants_csv

tables = Blueprint("tables", __name__)

ROWS: list[tuple[object, ...]] = [
    ("2003-05", 12, 3.5, None),
    ('=HYPERLINK("http://evil.example")', -4, Decimal("1.25"), "+SUM(A1:A2)"),
    ("@cmd", 0, -0.5, "-1+2"),
    ("-12", True, "\tindented", "plain, with comma"),
]


@tables.get("/t/months")
@tables.get("/t/months.json", endpoint="months_json")
@tables.get("/t/months.csv", endpoint="months_csv")
def months() -> ResponseReturnValue:
    data = {"status": 200, "message": "months", "csv": wants_csv()}
    table = CsvTable("months of reality.csv", ["month", "messages", "ratio", "note"], ROWS)
    return render("error.html", data, table=table)


@tables.get("/t/plain")
@tables.get("/t/plain.csv", endpoint="plain_csv")
def plain() -> ResponseReturnValue:
    return render("error.html", {"status": 200, "message": "no table here"})


@pytest.fixture()
def table_client(data_dir: Path) -> FlaskClient:
    Store(data_dir / "store.db").close()
    app: Flask = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    app.register_blueprint(tables)
    return app.test_client()


def test_csv_twin(table_client: FlaskClient) -> None:
    response = table_client.get("/t/months.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="months-of-reality.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["month", "messages", "ratio", "note"],
        ["2003-05", "12", "3.5", ""],
        ['\'=HYPERLINK("http://evil.example")', "-4", "1.25", "'+SUM(A1:A2)"],
        ["'@cmd", "0", "-0.5", "'-1+2"],
        ["-12", "true", "'\tindented", "plain, with comma"],
    ]
    assert response.get_data(as_text=True).endswith("\r\n")


def test_html_and_json_twins_unchanged(table_client: FlaskClient) -> None:
    page = table_client.get("/t/months")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert table_client.get("/t/months.json").json == {
        "status": 200,
        "message": "months",
        "csv": False,
    }


def test_csv_of_a_page_without_table_is_404(table_client: FlaskClient) -> None:
    response = table_client.get("/t/plain.csv")
    assert response.status_code == 404
    assert "no CSV export" in response.get_data(as_text=True)
    assert table_client.get("/t/plain").status_code == 200


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "+1"),
        ("-3.5e2", "-3.5e2"),
        ("-x", "'-x"),
        ("@A1", "'@A1"),
        ("\rline", "'\rline"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-7, -7),
        (2.25, 2.25),
        (False, "false"),
    ],
)
def test_csv_cell(value: object, written: object) -> None:
    assert csv_cell(value) == written


@pytest.mark.parametrize(
    ("name", "sent"),
    [("../../etc/passwd", "etc-passwd.csv"), ('a"b;c.csv', "a-b-c.csv"), ("", "export.csv")],
)
def test_download_names_are_safe(data_dir: Path, name: str, sent: str) -> None:
    app = create_app(load_settings(env={}, overrides={"data_dir": data_dir}))
    with app.test_request_context("/x.csv"):
        response = render("error.html", {}, table=CsvTable(name, ["a"], []))
    assert response.headers["Content-Disposition"] == f'attachment; filename="{sent}"'
