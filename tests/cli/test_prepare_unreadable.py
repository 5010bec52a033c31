"""`prepare_if_changed` after a change that succeeded (a removal, a merge): a store whose
state cannot be read is one warning and nothing prepared, never an exception the command
would report as its own failure (issue 14, review RV)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from config.settings import load_settings
from listarchive import preparing


def test_an_unreadable_store_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(env={}, overrides={"data_dir": tmp_path})
    settings.store_path.write_bytes(b"not a database, " * 64)
    with caplog.at_level(logging.WARNING, logger="listarchive.preparing"):
        assert preparing.prepare_if_changed(settings) is None
    assert [r.message for r in caplog.records if "statistics not prepared" in r.message]
