"""Decompression and size bombs: over a limit a volume fails or a message is quarantined with
a clear reason, and the run goes on with the next volume and the next list."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ingest.sources.base import Volume
from ingest.worker import parse_volume
from listarchive.cli import cli
from tests.support import bombs
from tests.support.archive_server import ArchiveServer

MIB = 1024 * 1024


def _run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    return result.exit_code, result.stdout


def test_gzip_bomb_fails_its_volume_and_the_run_goes_on(
    archive_server: ArchiveServer, data_dir: Path
) -> None:
    bomb = bombs.gzip_bomb(48 * MIB)
    assert len(bomb) < 48 * MIB // 400
    url = bombs.serve_list(
        archive_server,
        "a-bomb",
        {"2008-April": bomb, "2008-May": bombs.gz(bombs.mbox(1, 2))},
    )
    other = bombs.serve_list(archive_server, "b-good", {"2008-May": bombs.mbox(3, 4, 5)})
    for name, where in (("a-bomb", url), ("b-good", other)):
        assert _run(data_dir, "lists", "add", name, "--pipermail", where)[0] == 0
    env = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(8 * MIB), "LISTARCHIVE_SYNC_WORKERS": "2"}
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 1, out
    runs = {run["list_name"]: run for run in json.loads(out)["runs"]}
    assert runs["a-bomb"]["failures"] == [
        {
            "volume": "2008-April",
            "error": "decompresses to more than 8388608 bytes (sync.max_volume_bytes)",
        }
    ]
    assert runs["a-bomb"]["volumes_fetched"] == 1
    assert runs["a-bomb"]["new_messages"] == 2
    assert runs["b-good"]["new_messages"] == 3 and runs["b-good"]["clean"]
    code, out = _run(data_dir, "runs", "--json")
    statuses = {run["list"]: run["status"] for run in json.loads(out)["runs"]}
    assert statuses == {"a-bomb": "partial", "b-good": "ok"}
    # the text form says it as clearly (the bytes are unchanged: not parsed again)
    code, out = _run(data_dir, "sync", "a-bomb", env=env)
    assert (
        "volume 2008-April failed: unchanged since it failed: "
        "decompresses to more than 8388608 bytes" in out
    )


def _oversized_mbox(tmp_path: Path) -> tuple[Path, bytes]:
    big = bombs.huge_message(2, 3 * MIB)
    path = tmp_path / "big.mbox"
    path.write_bytes(bombs.message(1) + big + bombs.message(3))
    return path, big


def test_oversized_message_is_quarantined_with_a_bounded_prefix(
    tmp_path: Path, data_dir: Path
) -> None:
    path, big = _oversized_mbox(tmp_path)
    assert _run(data_dir, "lists", "add", "big", "--mbox", str(path))[0] == 0
    env = {"LISTARCHIVE_SYNC_MAX_MESSAGE_BYTES": str(MIB)}
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 0, out
    run = json.loads(out)["runs"][0]
    assert (run["new_messages"], run["quarantined"]) == (2, 1)
    conn = sqlite3.connect(data_dir / "store.db")
    reason, raw, position = conn.execute("SELECT reason, raw, position FROM quarantine").fetchone()
    size = len(big) - len(bombs.FROM_LINE)
    assert reason == f"message of {size} bytes is larger than sync.max_message_bytes ({MIB})"
    assert position == 1
    assert 0 < len(raw) <= 64 * 1024
    assert big[len(bombs.FROM_LINE) :].startswith(raw)
    subjects = [row[0] for row in conn.execute("SELECT subject FROM messages ORDER BY subject")]
    assert subjects == ["message 1", "message 3"]


def test_oversized_message_over_http_is_quarantined(
    archive_server: ArchiveServer, data_dir: Path
) -> None:
    volume = bombs.message(1) + bombs.huge_message(2, 3 * MIB) + bombs.message(3)
    url = bombs.serve_list(archive_server, "big", {"2008-May": bombs.gz(volume)})
    assert _run(data_dir, "lists", "add", "big", "--pipermail", url)[0] == 0
    env = {"LISTARCHIVE_SYNC_MAX_MESSAGE_BYTES": str(MIB), "LISTARCHIVE_SYNC_WORKERS": "2"}
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 0, out
    run = json.loads(out)["runs"][0]
    assert (run["new_messages"], run["quarantined"]) == (2, 1)


def test_local_mbox_over_the_volume_limit_fails_that_file(tmp_path: Path, data_dir: Path) -> None:
    good = tmp_path / "a.mbox"
    good.write_bytes(bombs.mbox(1, 2))
    huge = tmp_path / "b.mbox.gz"
    huge.write_bytes(bombs.gzip_bomb(24 * MIB))
    assert _run(data_dir, "lists", "add", "m", "--mbox", str(good), str(huge))[0] == 0
    env = {"LISTARCHIVE_SYNC_MAX_VOLUME_BYTES": str(4 * MIB)}
    code, out = _run(data_dir, "sync", "--json", env=env)
    assert code == 1, out
    run = json.loads(out)["runs"][0]
    assert run["new_messages"] == 2
    assert [f["error"] for f in run["failures"]] == [
        f"decompresses to more than {4 * MIB} bytes (sync.max_volume_bytes)"
    ]


def test_a_message_repeated_many_times_is_held_once(tmp_path: Path, data_dir: Path) -> None:
    """Byte-identical copies in one volume are counted as duplicates, not held one by one."""
    volume = bombs.message(1) + bombs.message(2) * 2000
    parsed = parse_volume("mbox", Volume("v", "v"), volume)
    assert (len(parsed.items), parsed.repeats) == (2, 1999)
    path = tmp_path / "r.mbox"
    path.write_bytes(volume)
    assert _run(data_dir, "lists", "add", "r", "--mbox", str(path))[0] == 0
    code, out = _run(data_dir, "sync", "--json")
    run = json.loads(out)["runs"][0]
    assert (run["new_messages"], run["duplicates"]) == (2, 1999)
    conn = sqlite3.connect(data_dir / "store.db")
    assert conn.execute("SELECT message_count FROM volumes").fetchone() == (2001,)
