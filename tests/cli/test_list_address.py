"""A posting address for every kind of list (the web UI's reply links go to it): `lists add
--address` and TOML `address`, checked; HyperKitty lists still need one."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings
from listarchive import app
from store.store import Store


def test_lists_add_keeps_the_address_of_a_pipermail_or_mbox_list(tmp_path: Path) -> None:
    mbox = tmp_path / "a.mbox"
    mbox.write_bytes(b"")
    store = Store(tmp_path / "store.db")
    try:
        info = app.add_list(
            store, "py", "https://mail.example.org/pipermail/py/", [], "", address="py@example.org"
        )
        assert info.address == "py@example.org"
        local = app.add_list(store, "local", None, [str(mbox)], "", address="local@example.org")
        assert local.address == "local@example.org"
        with pytest.raises(app.UsageError, match="LIST@DOMAIN"):
            app.add_list(store, "bad", None, [str(mbox)], "", address="not an address")
        with pytest.raises(app.UsageError, match="--hyperkitty needs --address"):
            app.add_list(store, "hk", None, [], "", hyperkitty_url="https://hk.example.org/")
    finally:
        store.close()


def test_toml_address_for_pipermail_and_mbox_lists(tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    config.write_text(
        '[lists.py]\npipermail = "https://mail.example.org/pipermail/py/"\n'
        'address = "py@example.org"\n'
        '[lists.local]\nmbox = ["/srv/a.mbox"]\naddress = "local@example.org"\n'
        '[lists.none]\nmbox = ["/srv/b.mbox"]\n'
    )
    lists = {c.name: c for c in load_settings(config, env={}).lists}
    assert lists["py"].address == "py@example.org"
    assert lists["local"].address == "local@example.org"
    assert lists["none"].address == ""
    config.write_text('[lists.py]\npipermail = "https://x.example.org/p/"\naddress = "nope"\n')
    with pytest.raises(ConfigError, match="expected LIST@DOMAIN"):
        load_settings(config, env={})
