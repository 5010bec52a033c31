"""Private-archive credentials: environment first, then a secrets file outside the repo."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from config.secrets import (
    ArchiveCredentials,
    SecretsError,
    archive_credentials,
    env_names,
    load_secrets_file,
)


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_env_names_upper_case_and_replace_punctuation() -> None:
    assert env_names("bpf-cybersecurity_example.org") == (
        "LISTARCHIVE_ARCHIVE_BPF_CYBERSECURITY_EXAMPLE_ORG_USERNAME",
        "LISTARCHIVE_ARCHIVE_BPF_CYBERSECURITY_EXAMPLE_ORG_PASSWORD",
    )


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    secrets = write(tmp_path / "s.toml", '[archives.bpf]\nusername = "f@x"\npassword = "pf"\n')
    env = {"LISTARCHIVE_SECRETS_FILE": str(secrets)}
    assert archive_credentials("bpf", env) == ArchiveCredentials("f@x", "pf", str(secrets))
    env |= {"LISTARCHIVE_ARCHIVE_BPF_USERNAME": "e@x", "LISTARCHIVE_ARCHIVE_BPF_PASSWORD": "pe"}
    assert archive_credentials("bpf", env) == ArchiveCredentials("e@x", "pe", "environment")
    assert archive_credentials("other", env) is None
    assert archive_credentials("bpf", {}) is None


def test_half_given_environment_is_an_error() -> None:
    with pytest.raises(SecretsError, match="LISTARCHIVE_ARCHIVE_BPF_PASSWORD is not set"):
        archive_credentials("bpf", {"LISTARCHIVE_ARCHIVE_BPF_USERNAME": "e@x"})


def test_password_never_in_repr() -> None:
    assert "hunter2" not in repr(ArchiveCredentials("a@x", "hunter2", "environment"))


def test_readable_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "s.toml", '[archives.a]\nusername = "u"\npassword = "hunter2"\n', 0o644)
    with caplog.at_level(logging.WARNING):
        assert load_secrets_file(path)["a"].username == "u"
    assert "readable by other users" in caplog.text
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[archives.a]\nusername = 'u'\n", "needs string `username` and `password`"),
        ("[archives.a]\nusername = ''\npassword = 'p'\n", "empty username or password"),
        ("archives = 3\n", "must be a table"),
        ("[archives.a\n", "not valid TOML"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SecretsError, match=message):
        load_secrets_file(write(tmp_path / "s.toml", text))


def test_missing_file_and_file_in_config_dir(tmp_path: Path) -> None:
    with pytest.raises(SecretsError, match="does not exist"):
        load_secrets_file(tmp_path / "nope.toml")
    inside = write(tmp_path / "config" / "s.toml", "")  # tests run in tmp_path
    with pytest.raises(SecretsError, match="outside the repository"):
        load_secrets_file(inside)
