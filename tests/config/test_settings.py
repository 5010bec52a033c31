from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import SETTINGS, ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings(env={})
    assert settings.data_dir == Path("var")
    assert settings["search.backend"] == "sqlite"
    assert all(s.help for s in SETTINGS)


def test_layers_file_then_env_then_override(tmp_path: Path) -> None:
    config = tmp_path / "la.toml"
    config.write_text(
        'data_dir = "from-file"\n[sync]\nworkers = 3\ntimeout = 5\n'
        '[lists.tp]\npipermail = "http://example.org/pipermail/tp/"\ncommunity = "twisted"\n'
        '[lists.local]\nmbox = ["a.mbox", "b.mbox"]\n'
    )
    settings = load_settings(
        config,
        env={"LISTARCHIVE_SYNC_WORKERS": "4"},
        overrides={"data_dir": tmp_path / "cli"},
    )
    assert settings["sync.workers"] == 4
    assert settings["sync.timeout"] == 5.0
    assert settings.data_dir == tmp_path / "cli"
    assert settings.sources["sync.timeout"] == "file"
    assert settings.sources["sync.workers"] == "env"
    assert [(x.name, x.source, x.community) for x in settings.lists] == [
        ("tp", "pipermail", "twisted"),
        ("local", "mbox", ""),
    ]
    assert settings.lists[1].paths == ("a.mbox", "b.mbox")


def test_default_config_file_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config/listarchive.toml").write_text('log_level = "debug"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={})["log_level"] == "DEBUG"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[sync]\nworkers = 'many'\n", {}, "sync.workers"),
        ("bogus = 1\n", {}, "unknown setting 'bogus'"),
        ("", {"LISTARCHIVE_SEARCH_BACKEND": "solr"}, "not one of sqlite, elasticsearch"),
        ("[lists.x]\npipermail = 'ftp://x'\n", {}, "not an http(s) URL"),
        ("[lists.x]\ncommunity = 'c'\n", {}, "needs `pipermail = URL`"),
        ("[sync\n", {}, "not valid TOML"),
        ("[sync]\nworkers = 0\n", {}, "at least 1"),
    ],
)
def test_bad_settings_give_clear_messages(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config, env=env)


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
