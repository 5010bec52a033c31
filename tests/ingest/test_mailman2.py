"""Mailman 2 realities: hosted `<list>_<domain>` names, private archives behind a member login,
private messages kept out of anonymous searches, and lists re-pointed at another host."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config.secrets import ArchiveCredentials
from ingest.http import HttpFetcher
from ingest.sources.base import Download
from ingest.sources.pipermail import PipermailSource
from listarchive.cli import cli
from tests.support.archive_server import ArchiveServer
from tests.support.mailman2_server import HostedList, Mailman2Server, cookie_name

MEMBER = "secretariat@example.org"
PASSWORD = "s3cret-Pa55-word"
PRIVATE_NAME = "secretariat_example.org"
PRIVATE_PATH = f"/mailman/private/{PRIVATE_NAME}/"
PUBLIC_NAME = "divunal-devel_example.org"
PUBLIC_PATH = f"/pipermail/{PUBLIC_NAME}/"
USER_VAR = "LISTARCHIVE_ARCHIVE_BPF_SECRETARIAT_USERNAME"
PASSWORD_VAR = "LISTARCHIVE_ARCHIVE_BPF_SECRETARIAT_PASSWORD"


@pytest.fixture()
def mailman2(corpus: Path) -> Iterator[Mailman2Server]:
    twisted = corpus / "pipermail/twisted"
    server = Mailman2Server(
        lists={
            PRIVATE_NAME: HostedList(
                twisted / "divunal-author", private=True, members={MEMBER: PASSWORD}
            ),
            PUBLIC_NAME: HostedList(twisted / "divunal-devel"),
        }
    )
    server.start()
    yield server
    server.stop()


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    """Exit code and everything the command printed (stdout, stderr and its log)."""
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


def sync_json(data_dir: Path, *names: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "sync", "--json", *names])
    return result.exit_code, json.loads(result.stdout)


def search_total(data_dir: Path, query: str, *args: str) -> int:
    code, out = run(data_dir, "search", query, "--json", "--limit", "1000", *args)
    assert code == 0, out
    total: int = json.loads(out)["total"]
    return total


def add_private(server: Mailman2Server, data_dir: Path) -> None:
    code, out = run(
        data_dir, "lists", "add", "bpf-secretariat", "--pipermail", server.url(PRIVATE_PATH)
    )
    assert code == 0, out


def memberships(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "store.db")
    try:
        return int(conn.execute("SELECT count(*) FROM memberships").fetchone()[0])
    finally:
        conn.close()


def test_hosted_list_name_syncs(mailman2: Mailman2Server, data_dir: Path) -> None:
    code, out = run(
        data_dir, "lists", "add", "divunal-devel", "--pipermail", mailman2.url(PUBLIC_PATH)
    )
    assert code == 0, out
    code, summary = sync_json(data_dir)
    assert code == 0, summary
    (first,) = summary["runs"]
    assert (first["volumes_fetched"], first["volumes_failed"]) == (6, 0)
    assert first["new_messages"] > 0
    code, out = run(data_dir, "lists", "--json")
    (row,) = json.loads(out)
    assert row["private"] is False
    assert search_total(data_dir, "list:divunal-devel") == first["new_messages"]


def test_private_archive_with_env_credentials(
    mailman2: Mailman2Server, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_private(mailman2, data_dir)
    code, out = run(data_dir, "lists", "--json")
    assert json.loads(out)[0]["private"] is True
    monkeypatch.setenv(USER_VAR, MEMBER)
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    code, summary = sync_json(data_dir)
    assert code == 0, summary
    (first,) = summary["runs"]
    assert (first["volumes_fetched"], first["volumes_failed"]) == (20, 0)
    assert first["new_messages"] + first["duplicates"] == 266  # every From_ line in the volumes
    # one login per run; every volume then rode on the session cookie
    assert mailman2.logins[PRIVATE_NAME] == 1
    code, summary = sync_json(data_dir)
    assert code == 0, summary
    (second,) = summary["runs"]
    assert (second["new_messages"], second["volumes_unchanged"]) == (0, 20)
    assert mailman2.logins[PRIVATE_NAME] == 2


def test_private_archive_with_secrets_file(
    mailman2: Mailman2Server, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_private(mailman2, data_dir)
    secrets = tmp_path / "private" / "listarchive-secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text(
        f'[archives.bpf-secretariat]\nusername = "{MEMBER}"\npassword = "{PASSWORD}"\n'
    )
    secrets.chmod(0o600)
    monkeypatch.setenv("LISTARCHIVE_SECRETS_FILE", str(secrets))
    code, out = run(data_dir, "sync")
    assert code == 0, out
    assert "readable by other users" not in out
    assert mailman2.logins[PRIVATE_NAME] == 1
    assert PASSWORD not in out


def test_wrong_password_fails_clearly_without_showing_it(
    mailman2: Mailman2Server, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_private(mailman2, data_dir)
    monkeypatch.setenv(USER_VAR, MEMBER)
    monkeypatch.setenv(PASSWORD_VAR, "not-the-Pa55-word")
    code, out = run(data_dir, "-v", "sync")
    assert code == 1
    assert "login refused for bpf-secretariat: check the credentials" in out
    assert "not-the-Pa55-word" not in out
    assert mailman2.refused[PRIVATE_NAME] == 1
    assert b"not-the-Pa55-word" not in (data_dir / "store.db").read_bytes()
    code, out = run(data_dir, "runs", "--json")
    assert "login refused" in out and "not-the-Pa55-word" not in out


def test_private_archive_without_credentials_fails_clearly(
    mailman2: Mailman2Server, data_dir: Path
) -> None:
    add_private(mailman2, data_dir)
    code, out = run(data_dir, "sync")
    assert code == 1
    assert "bpf-secretariat is a private archive and no login is configured" in out
    assert mailman2.logins[PRIVATE_NAME] == 0


def test_secrets_file_inside_the_config_directory_is_refused(
    mailman2: Mailman2Server, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_private(mailman2, data_dir)
    secrets = tmp_path / "config" / "secrets.toml"  # tests run with tmp_path as cwd
    secrets.parent.mkdir()
    secrets.write_text(f'[archives.bpf-secretariat]\nusername = "{MEMBER}"\npassword = "x"\n')
    monkeypatch.setenv("LISTARCHIVE_SECRETS_FILE", str(secrets))
    code, out = run(data_dir, "sync")
    assert code == 1
    assert "keep secrets outside the repository" in out


def test_private_messages_are_only_found_when_included(
    mailman2: Mailman2Server, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_private(mailman2, data_dir)
    run(data_dir, "lists", "add", "divunal-devel", "--pipermail", mailman2.url(PUBLIC_PATH))
    monkeypatch.setenv(USER_VAR, MEMBER)
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    code, summary = sync_json(data_dir)
    assert code == 0, summary
    private_count = next(r for r in summary["runs"] if r["list_name"] == "bpf-secretariat")[
        "new_messages"
    ]
    # a message also posted to the public list is public: these two lists share a few
    conn = sqlite3.connect(data_dir / "store.db")
    (shared,) = conn.execute(
        "SELECT count(*) FROM (SELECT message FROM memberships GROUP BY message "
        "HAVING count(*) = 2)"
    ).fetchone()
    conn.close()
    assert 0 < shared < private_count
    # naming a private list without --include-private is refused with the hint (issue 11/13:
    # the CLI refuses what the web answers as an unknown list)
    code, out = run(data_dir, "search", "list:bpf-secretariat")
    assert code == 2 and "--include-private" in out, out
    assert search_total(data_dir, "list:bpf-secretariat", "--include-private") == private_count
    everything = search_total(data_dir, "after:1990-01-01", "--include-private")
    public = search_total(data_dir, "after:1990-01-01")
    assert 0 < public < everything
    code, out = run(data_dir, "search", "list:bpf-secretariat", "--include-private")
    assert code == 0 and "bpf-secretariat" in out


def test_marking_a_synced_list_private_hides_its_messages(
    mailman2: Mailman2Server, data_dir: Path
) -> None:
    url = mailman2.url(PUBLIC_PATH)
    run(data_dir, "lists", "add", "divunal-devel", "--pipermail", url)
    assert sync_json(data_dir)[0] == 0
    assert search_total(data_dir, "list:divunal-devel") > 0
    code, out = run(data_dir, "lists", "add", "divunal-devel", "--pipermail", url, "--private")
    assert code == 0, out
    code, summary = sync_json(data_dir)
    assert code == 0 and summary["runs"][0]["new_messages"] == 0
    code, out = run(data_dir, "search", "list:divunal-devel")
    assert code == 2 and "--include-private" in out, out
    assert search_total(data_dir, "after:1990-01-01") == 0
    assert search_total(data_dir, "list:divunal-devel", "--include-private") > 0


def _spooled(download: Download) -> bytes:
    """The start of a downloaded volume, from its spool file (never held as bytes)."""
    assert download.temporary and not download.data
    with open(download.path, "rb") as handle:
        return handle.read(64)


def test_expired_session_logs_in_again(mailman2: Mailman2Server) -> None:
    fetcher = HttpFetcher(retries=0)
    credentials = ArchiveCredentials(MEMBER, PASSWORD, "test")
    source = PipermailSource(
        mailman2.url(PRIVATE_PATH), fetcher, list_name="bpf", credentials=lambda: credentials
    )
    try:
        volumes = source.volumes()
        assert any(c.name == cookie_name(PRIVATE_NAME, MEMBER) for c in fetcher.client.cookies.jar)
        first = source.download(volumes[0], None)
        assert first.status == "fetched" and _spooled(first).startswith(b"From ")
        mailman2.expire_sessions()
        second = source.download(volumes[1], None)
        assert second.status == "fetched" and _spooled(second).startswith(b"From ")
        assert mailman2.logins[PRIVATE_NAME] == 2
        assert "password" not in repr(credentials) and PASSWORD not in repr(credentials)
    finally:
        fetcher.close()


def test_repointing_to_another_host_adds_nothing(
    mailman2: Mailman2Server, archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    old_path = "/pipermail/divunal-devel/"
    archive_server.mounts[old_path] = corpus / "pipermail/twisted/divunal-devel"
    archive_server.listings.add(old_path)
    run(data_dir, "lists", "add", "devel", "--pipermail", archive_server.url(old_path))
    code, summary = sync_json(data_dir)
    assert code == 0, summary
    first = summary["runs"][0]
    assert first["volumes_fetched"] == 6
    before = memberships(data_dir)
    archive_server.requests.clear()

    # the same archive, now on a hosted Mailman 2 under its `<list>_<domain>` name
    code, out = run(data_dir, "lists", "add", "devel", "--pipermail", mailman2.url(PUBLIC_PATH))
    assert code == 0, out
    code, summary = sync_json(data_dir)
    assert code == 0, summary
    second = summary["runs"][0]
    assert (second["new_messages"], second["volumes_fetched"]) == (0, 0)
    assert second["volumes_unchanged"] == 6
    assert memberships(data_dir) == before
    assert sum(archive_server.requests.values()) == 0
    # every volume was checked once on the new host, in full (the old ETag proves nothing)
    volume_requests = {p: n for p, n in mailman2.requests.items() if p.endswith(".txt.gz")}
    assert len(volume_requests) == 6 and set(volume_requests.values()) == {1}
    conn = sqlite3.connect(data_dir / "store.db")
    urls = [row[0] for row in conn.execute("SELECT url FROM volumes")]
    conn.close()
    assert all(url.startswith(mailman2.url(PUBLIC_PATH)) for url in urls)

    mailman2.requests.clear()
    code, summary = sync_json(data_dir)
    assert code == 0 and summary["runs"][0]["volumes_unchanged"] == 6
    # now one conditional request per volume, answered 304
    assert sum(mailman2.requests.values()) == 1 + 6


def test_a_server_that_drops_the_session_fails_volumes_not_forever(
    mailman2: Mailman2Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailman2, "has_session", lambda name, cookies: False)
    fetcher = HttpFetcher(retries=0)
    credentials = ArchiveCredentials(MEMBER, PASSWORD, "test")
    source = PipermailSource(
        mailman2.url(PRIVATE_PATH), fetcher, list_name="bpf", credentials=lambda: credentials
    )
    try:
        volumes = source.volumes()
        results = [source.download(volume, None) for volume in volumes[:5]]
    finally:
        fetcher.close()
    assert [r.status for r in results] == ["failed"] * 5
    assert "keeps asking for a login" in results[-1].error
    assert mailman2.logins[PRIVATE_NAME] == 1 + 3
