"""A message quarantined by a limit (larger than `sync.max_message_bytes`: only its first bytes
are kept) records the limits in force with its row; a sync after that limit was raised reads
its volume whole again (an mbox from the start, not from its resume offset; parsed whole or
split across the workers): the message is stored and leaves the quarantine, or, still too
large, is quarantined again under the new limit, and is not read again until it is raised
once more.  A row from before the limits were recorded is read again once."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ingest import chunked
from ingest.http import HttpFetcher
from ingest.incremental import volumes_to_check
from ingest.sources.base import Volume
from ingest.sources.hyperkitty import HyperKittySource
from listarchive.cli import cli
from store import schema
from store.records import VolumeState
from tests.support import bombs

BIG = 200_000  # the size of the big message


def _sync(data_dir: Path, limit: int) -> dict[str, Any]:
    env = {"LISTARCHIVE_SYNC_MAX_MESSAGE_BYTES": str(limit)}
    args = ["--data-dir", str(data_dir), "sync", "--json", "--workers", "1"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    run: dict[str, Any] = json.loads(result.stdout)["runs"][0]
    return run


def _quarantine(data_dir: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(data_dir / "store.db") as conn:
        rows = conn.execute("SELECT position, reason, limits FROM quarantine ORDER BY id")
        return [(int(p), str(r), str(lim)) for p, r, lim in rows]


def _listed(data_dir: Path) -> list[Any]:
    """`listarchive quarantine --json`, each row's `limits`."""
    args = ["--data-dir", str(data_dir), "quarantine", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return [row["limits"] for row in json.loads(result.stdout)]


def _stored(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "store.db") as conn:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


def _read(run: dict[str, Any]) -> bool:
    """Whether the run read the (one) volume rather than finding it unchanged."""
    assert run["volumes_fetched"] + run["volumes_unchanged"] == 1, run
    return bool(run["volumes_fetched"])


@pytest.fixture(params=["whole", "split"])
def big_list(request: pytest.FixtureRequest, tmp_path: Path, data_dir: Path) -> Path:
    if request.param == "split":
        request.getfixturevalue("monkeypatch").setattr(chunked, "SPLIT_BYTES", 1)
    path = tmp_path / "big.mbox"
    path.write_bytes(bombs.mbox(1) + bombs.huge_message(2, BIG) + bombs.mbox(3))
    args = ["--data-dir", str(data_dir), "lists", "add", "big", "--mbox", str(path)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    return data_dir


def test_a_quarantined_message_is_retried_when_its_limit_is_raised(big_list: Path) -> None:
    data_dir = big_list
    run = _sync(data_dir, 100_000)
    assert (run["new_messages"], run["quarantined"]) == (2, 1)
    [(position, reason, limits)] = _quarantine(data_dir)
    assert position == 1 and "larger than sync.max_message_bytes (100000)" in reason
    assert json.loads(limits) == {"max_message_bytes": 100_000}
    assert _listed(data_dir) == [{"max_message_bytes": 100_000}]
    # the same limit, or a lower one: the volume is not read again
    assert not _read(_sync(data_dir, 100_000))
    assert not _read(_sync(data_dir, 50_000))
    assert len(_quarantine(data_dir)) == 1
    # raised, but not enough: read again, quarantined again under the limit now in force
    run = _sync(data_dir, 150_000)
    assert _read(run) and (run["new_messages"], run["quarantined"]) == (0, 1)
    [(position, reason, limits)] = _quarantine(data_dir)
    assert position == 1 and "(150000)" in reason
    assert json.loads(limits) == {"max_message_bytes": 150_000}
    assert not _read(_sync(data_dir, 150_000))
    # raised past its size: stored at its place, and gone from the quarantine
    run = _sync(data_dir, 1_000_000)
    assert _read(run) and (run["new_messages"], run["quarantined"]) == (1, 0)
    assert run["duplicates"] == 2  # the others, read again
    assert _quarantine(data_dir) == [] and _stored(data_dir) == 3
    with sqlite3.connect(data_dir / "store.db") as conn:
        positions = conn.execute("SELECT position FROM memberships ORDER BY position")
        assert [p for (p,) in positions] == [0, 1, 2]
    assert not _read(_sync(data_dir, 1_000_000))


def test_a_row_without_its_limits_is_retried_once(big_list: Path) -> None:
    """A row from before the limits were recorded: the migration marks the too-large ones
    '{}' (not known), which reads the volume once more; then the limits are known."""
    data_dir = big_list
    _sync(data_dir, 100_000)
    with sqlite3.connect(data_dir / "store.db") as conn:
        conn.execute("UPDATE quarantine SET limits = '{}'")
    assert _listed(data_dir) == [{}]
    run = _sync(data_dir, 100_000)
    assert _read(run) and run["quarantined"] == 1
    assert json.loads(_quarantine(data_dir)[0][2]) == {"max_message_bytes": 100_000}
    assert not _read(_sync(data_dir, 100_000))


def test_a_parse_failure_records_no_limits(tmp_path: Path, data_dir: Path) -> None:
    """A message quarantined for another reason than a limit is not read again by raising
    one (`listarchive reparse --quarantined` retries those with a fixed parser)."""
    path = tmp_path / "junk.mbox"
    # a damaged export: a From_ line and garbage first, with no message to glue it to
    path.write_bytes(bombs.FROM_LINE + b"\x00\x00 garbage that is no message\n\n" + bombs.mbox(1))
    args = ["--data-dir", str(data_dir), "lists", "add", "junk", "--mbox", str(path)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    run = _sync(data_dir, 100_000)
    rows = _quarantine(data_dir)
    assert run["quarantined"] == len(rows) == 1 and rows[0][2] == "", rows
    assert _listed(data_dir) == [None]
    assert not _read(_sync(data_dir, 1_000_000))


def test_an_old_volume_with_held_messages_is_checked_in_a_recent_sync() -> None:
    volumes = [Volume(f"2008-{m:02d}", f"http://x/{m}") for m in range(1, 13)]
    states = {v.name: VolumeState(v.name, v.url) for v in volumes}
    recent = [v.name for v in volumes_to_check(volumes, states, False)]
    assert "2008-01" not in recent
    again = [v.name for v in volumes_to_check(volumes, states, False, also={"2008-01"})]
    assert again == ["2008-01", *recent]


def test_the_migration_marks_too_large_rows_not_known(tmp_path: Path) -> None:
    ours = next(i for i, s in enumerate(schema.MIGRATIONS) if "quarantine_held" in s)
    conn = sqlite3.connect(tmp_path / "old.db")  # a store of the version before
    conn.executescript("".join(f"BEGIN;{s};COMMIT;" for s in schema.MIGRATIONS[:ours]))
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(ours),))
    conn.execute("INSERT INTO lists (id, name, source, created_at) VALUES (1, 'a', '[]', '')")
    big = "message of 9 bytes is larger than sync.max_message_bytes (8)"
    for number, reason in enumerate([big, "no header block: not a message"]):
        conn.execute(
            "INSERT INTO quarantine (list, origin, position, reason, raw, raw_sha256, "
            "created_at) VALUES (1, 'v', ?, ?, x'00', ?, '')",
            (number, reason, str(number)),
        )
    conn.commit()
    assert schema.migrate(conn) == len(schema.MIGRATIONS)
    rows = conn.execute("SELECT reason, limits FROM quarantine ORDER BY position").fetchall()
    assert rows == [(big, "{}"), ("no header block: not a message", "")]
    conn.close()


def test_a_hyperkitty_month_with_held_messages_is_asked_in_a_recent_sync() -> None:
    source = HyperKittySource("http://127.0.0.1:9/hyperkitty/", "l@example.org", HttpFetcher())
    states = {"2020-01": VolumeState("2020-01", "u"), "2024-06": VolumeState("2024-06", "u")}
    today = date(2024, 6, 15)
    recent = [v.name for v in source.recent_volumes(states, today=today)]
    assert recent == ["2024-05", "2024-06"]
    again = source.recent_volumes(states, today=today, also={"2020-01"})
    assert [v.name for v in again] == ["2020-01", *recent]
