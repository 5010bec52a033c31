"""Old pipermail URLs redirect (301) to permalinks and period pages; unknown ones are 404."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from config.settings import load_settings
from store.store import Store
from tests.conftest import CORPUS
from tests.support.pipermail_site import synced_and_mapped
from webui import create_app

OLD = "/pipermail/twisted-python"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Synced and mapped once for the module (twisted-web, our `tw`, stays without a map)."""
    path = synced_and_mapped(CORPUS, tmp_path_factory.mktemp("pipermail"))
    yield path


@pytest.fixture()
def data(synced: Path, tmp_path: Path) -> Path:
    """A copy each test may change."""
    return Path(shutil.copytree(synced, tmp_path / "data-copy"))


@pytest.fixture()
def client(data: Path) -> Iterator[FlaskClient]:
    app = create_app(load_settings(env={}, overrides={"data_dir": data}))
    with app.test_client() as test_client:
        yield test_client


def _key(data: Path, message_id: str) -> str:
    conn = sqlite3.connect(data / "store.db")
    row = conn.execute("SELECT key FROM messages WHERE message_id_norm = ?", (message_id,))
    key = str(row.fetchone()[0])
    conn.close()
    return key


def test_article_redirects_to_the_message(client: FlaskClient, data: Path) -> None:
    # 032072.html is "[Twisted-Python] doPoll timeout problems" by Barry Scott
    response = client.get(f"{OLD}/2018-October/032072.html")
    assert response.status_code == 301
    key = _key(data, "3532952.vhGpKmxsgq@barry-scott-desktop")
    assert response.headers["Location"] == f"/messages/{key}"
    # a number from the re-archived series, and a period whose pages have no Message-ID
    later = client.get(f"{OLD}/2018-October/064558.html")
    assert later.headers["Location"] == "/messages/" + _key(
        data, "CA+1iZEcq7siJiAVD08B5vz-UygZzViUZQ_0koFUj+kXAAvf9vA@mail.gmail.com"
    )
    old = client.get(f"{OLD}/1945-February/002044.html")
    assert old.status_code == 301
    assert old.headers["Location"] == "/messages/" + _key(
        data, "200210211856.g9LIulJ67077@cgi-works.com"
    )


@pytest.mark.parametrize("page", ["", "date.html", "thread.html", "subject.html", "author.html"])
def test_period_pages_redirect_to_the_period(client: FlaskClient, page: str) -> None:
    response = client.get(f"{OLD}/2018-October/{page}")
    assert response.status_code == 301
    assert response.headers["Location"] == "/lists/tp/2018-October/"


def test_list_index_redirects_to_the_list(client: FlaskClient) -> None:
    for path in (f"{OLD}/", f"{OLD}/index.html"):
        response = client.get(path)
        assert (response.status_code, response.headers["Location"]) == (301, "/lists/tp/")


def test_period_without_a_map_sends_articles_to_the_period(client: FlaskClient) -> None:
    response = client.get("/pipermail/twisted-web/2007-January/003244.html")
    assert response.status_code == 301
    assert response.headers["Location"] == "/lists/tw/2007-January/"


@pytest.mark.parametrize(
    "path",
    [
        f"{OLD}/2018-October/032078.html",  # the other copy's number: not in the date index
        f"{OLD}/2018-October/999999.html",
        f"{OLD}/2018-November/032072.html",  # a period we do not hold
        f"{OLD}/2018-November/",
        f"{OLD}/2018-October/032072.txt",
        "/pipermail/nosuchlist/2018-October/032072.html",
        "/pipermail/tp/2018-October/032072.html",  # our name, not the old host's
    ],
)
def test_unknown_is_404(client: FlaskClient, path: str) -> None:
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    error = as_json.get_json()["error"]
    assert error["status"] == 404 and error["message"]
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype != "application/json"
    assert b"Traceback" not in page.data


def test_private_list_is_never_redirected(data: Path, client: FlaskClient) -> None:
    store = Store(data / "store.db")
    info = store.get_list("tp")
    store.add_list("tp", "pipermail", url=info.url, private=True)
    store.close()
    assert client.get(f"{OLD}/2018-October/032072.html").status_code == 404
    assert client.get(f"{OLD}/2018-October/").status_code == 404


def test_store_without_the_map_table(data: Path, client: FlaskClient) -> None:
    conn = sqlite3.connect(data / "store.db")
    conn.execute("DROP TABLE pipermail_articles")
    conn.commit()
    conn.close()
    response = client.get(f"{OLD}/2018-October/032072.html")
    assert (response.status_code, response.headers["Location"]) == (
        301,
        "/lists/tp/2018-October/",
    )


def test_old_link_lands_on_the_message_page(client: FlaskClient) -> None:
    landed = client.get(f"{OLD}/2018-October/032072.html", follow_redirects=True)
    assert landed.status_code == 200
    assert b"doPoll timeout problems" in landed.data
    period = client.get(f"{OLD}/2018-October/thread.html", follow_redirects=True)
    assert period.status_code == 200
