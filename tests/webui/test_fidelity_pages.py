"""Issue 13 in the web UI, on real fixtures of `../shared/corpus/pathological/`: a message
whose Date header could not be read says where its date came from (page note and JSON), and
mbox exports write each message's original From_ line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from config.settings import load_settings
from ingest.mboxsplit import split_mbox
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from store.store import Store
from tests.ingest.parse_support import PATHOLOGICAL
from tests.support.stores import index_store
from webui import create_app

FIXTURES = PATHOLOGICAL / "fixtures"
KOREAN_DATE = FIXTURES / "hyperkitty-1.3.12/non-ascii-date-header.txt"
ENRICHED = FIXTURES / "ponymail-unit-tests/text_enriched.mbox"
JETSPEED = FIXTURES / "ponymail-foal/jetspeed-user.portals.apache.org-27090.eml"
PONYMAIL_DEV = (
    PATHOLOGICAL.parent / "mbox/apache-ponymail-foal/dev_ponymail_apache_org_2020-10.mbox"
)
REBUILT = b"From someone@example.org Mon Oct  5 12:40:42 2009\n"
ENRICHED_ID = "3.0.5.32.20010514152321.0090b230@netgate.emmes.com"
JETSPEED_ID = (
    "AB767F0FA88E184295B9FA55AA4617C102BAC3972F@BLR-HCLT-EVS06.HCLT."
    "CORP.HCL.IN-1AAF5DAB-5B0B-7BC1-7E16-7904B17DF4C8"
)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    box = tmp_path / "fidelity.mbox"
    parts = [KOREAN_DATE, ENRICHED, PONYMAIL_DEV]
    box.write_bytes(b"".join(p.read_bytes().rstrip(b"\n") + b"\n\n" for p in parts))
    bare = tmp_path / "bare.mbox"
    bare.write_bytes(REBUILT + JETSPEED.read_bytes())
    store = Store(data / "store.db")
    try:
        for name, path in (("fidelity", box), ("bare", bare)):
            store.add_list(name, "mbox", paths=[str(path)])
            assert sync_list(store, name, MboxSource([str(path)]), workers=1).clean
        # as if stored before From_ lines were kept: its export rebuilds one
        store.conn.execute("UPDATE messages SET unixfrom = '' WHERE message_id LIKE '%HCLT%'")
        store.conn.commit()
        index_store(store, data)
    finally:
        store.close()
    return data


@pytest.fixture()
def client(data: Path) -> FlaskClient:
    return create_app(load_settings(env={}, overrides={"data_dir": data})).test_client()


def _ids(data: Path, message_id_norm: str) -> tuple[str, str]:
    """(key, thread id) of a stored message."""
    conn = sqlite3.connect(data / "store.db")
    row = conn.execute(
        "SELECT key, thread_id FROM messages WHERE message_id_norm = ?", (message_id_norm,)
    ).fetchone()
    conn.close()
    assert row is not None, message_id_norm
    return str(row[0]), str(row[1])


def test_a_date_taken_from_the_from_line_says_so(client: FlaskClient, data: Path) -> None:
    key, _ = _ids(data, "263.386743.235@korea.com")  # Date: 8-bit EUC-KR bytes
    korean = client.get(f"/messages/{key}.json").get_json()["message"]
    assert korean["date"] == "2001-06-27T15:23:36+00:00"
    assert korean["date_source"] == "unixfrom"
    assert "date taken from the mbox From_ line" in client.get(f"/messages/{key}").text
    key, _ = _ids(data, ENRICHED_ID)
    assert client.get(f"/messages/{key}.json").get_json()["message"]["date_source"] == "header"
    assert "date taken from" not in client.get(f"/messages/{key}").text


def test_exports_write_the_original_from_line(client: FlaskClient, data: Path) -> None:
    _, thread = _ids(data, ENRICHED_ID)
    mbox = client.get(f"/threads/{thread}.mbox").get_data()
    assert mbox.split(b"\n", 1)[0] == ENRICHED.read_bytes().split(b"\n", 1)[0]

    periods = client.get("/lists/fidelity.json").get_json()["periods"]
    export = b"".join(client.get(f"/lists/fidelity/{p['name']}.mbox").get_data() for p in periods)
    lines = [line for line in export.split(b"\n") if line.startswith(b"From ")]
    original = PONYMAIL_DEV.read_bytes().split(b"\n", 1)[0]
    assert original.startswith(b"From dev-return-1307-archive-asf-public=")
    assert original in lines  # not a rebuilt `From jmclean@apache.org Mon Oct  5 ...`
    assert not any(line.startswith(b"From jmclean@apache.org") for line in lines)
    assert len(list(split_mbox(export))) == 3

    # no From_ line stored: one is rebuilt from the sender and date, as before
    _, thread = _ids(data, JETSPEED_ID)
    rebuilt = client.get(f"/threads/{thread}.mbox").get_data()
    assert rebuilt.split(b"\n", 1)[0] == b"From varsha.nrao@hcl.in Mon Oct  5 12:40:42 2009"
