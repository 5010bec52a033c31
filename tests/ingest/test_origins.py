"""The origin policy of a list and the masking of URL credentials (pure functions)."""

from __future__ import annotations

import pytest

from config.settings import ConfigError
from ingest.origins import OriginPolicy, parse_origin
from ingest.sources.pipermail import foreign_links, parse_index
from store.redact import has_credentials, redact


def test_policy_allows_the_list_origin_declared_ones_and_the_https_upgrade() -> None:
    policy = OriginPolicy.for_url(
        "http://Lists.Example.org/pipermail/demo/", ["https://new.example.org:8443"]
    )
    assert policy.allows("http://lists.example.org:80/pipermail/demo/2001-May.txt")
    assert policy.allows("https://lists.example.org/pipermail/demo/")  # http -> https
    assert policy.allows("https://new.example.org:8443/demo/")
    assert not policy.allows("https://new.example.org/demo/")  # another port
    assert not policy.allows("http://lists.example.org:8080/")
    assert not policy.allows("http://127.0.0.1/")
    assert not policy.allows("file:///etc/passwd")
    https_only = OriginPolicy.for_url("https://lists.example.org/")
    assert not https_only.allows("http://lists.example.org/")  # no downgrade


@pytest.mark.parametrize(
    "bad", ["https://h/path", "ftp://h", "https://u:p@h", "https://h:port", "h.example.org"]
)
def test_declared_origins_are_origins_only(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_origin(bad)


def test_index_links_elsewhere_are_left_out_and_reported() -> None:
    html = (
        '<a href="2001-May.txt.gz">x</a> <a href="http://10.0.0.1:9200/2001-June.txt">y</a>'
        '<a href="//evil.example.net/2001-July.txt">z</a>'
    )
    base = "http://lists.example.org/pipermail/demo/"
    policy = OriginPolicy.for_url(base)
    assert [v.name for v in parse_index(html, base, policy)] == ["2001-May"]
    assert [v.name for v in parse_index(html, base)] == ["2001-May", "2001-June", "2001-July"]
    assert foreign_links(html, base, policy) == [
        "http://10.0.0.1:9200/2001-June.txt",
        "http://evil.example.net/2001-July.txt",
    ]


def test_redact_masks_every_url_credential() -> None:
    text = "failed for http://u:p@ss@host/x/a@b.txt: see https://h/ and 'ftp://me@f/'"
    assert redact(text) == "failed for http://***@host/x/a@b.txt: see https://h/ and 'ftp://***@f/'"
    assert has_credentials("https://user:pw@host/") and not has_credentials("https://h/a@b")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http:/bob:PwLeak10@127.0.0.1:18001/r2/", "http:/***@127.0.0.1:18001/r2/"),
        ("http:bob:PwLeak10@127.0.0.1:18001/r2/", "http:***@127.0.0.1:18001/r2/"),
        ("'http:///bob:PwLeak10@h/' is bad", "'http:///***@h/' is bad"),
        ("https:\\\\bob:PwLeak10@h/", "https:\\\\***@h/"),
        ("see bob:PwLeak10@127.0.0.1:18001/r2/", "see ***@127.0.0.1:18001/r2/"),
    ],
)
def test_redact_masks_userinfo_of_urls_that_do_not_parse(text: str, shown: str) -> None:
    assert redact(text) == shown
    assert has_credentials(text.removeprefix("see ").strip("'").split(" ")[0])


def test_redact_keeps_what_holds_no_password() -> None:
    text = "http://[::1]:8080/a@b, https://h/x:1, <a1@x>, 2001-March.txt, 10:00:00 UTC"
    assert redact(text) == text


def test_refusal_offers_allow_origin_for_http_origins_only() -> None:
    policy = OriginPolicy.for_url("https://lists.example.org/pipermail/demo/")
    assert policy.refusal("http://new.example.org:8080/x").endswith(
        "--allow-origin http://new.example.org:8080)"
    )
    for url in ("file:///etc/passwd", "gopher://h/", "javascript:alert(1)", "http:///x"):
        refusal = policy.refusal(url)
        assert "--allow-origin" not in refusal and "not" in refusal, url
    assert "scheme file: is not allowed" in policy.refusal("file:///etc/passwd")
