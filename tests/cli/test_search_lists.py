"""`listarchive search` refuses an unknown list as `stats` does (exit 2, "unknown list"),
instead of answering "0 messages match" (issue 13); the operator is told that a private list
needs --include-private (over the visibility walk's store: `hushlist` private, `pub-list`
public)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from listarchive.cli import cli
from tests.webui.test_visibility_walk import PRIVATE_LIST, PUBLIC_LIST, Mixed, mixed

__all__ = ["mixed"]  # the module fixture, shared with the walk


def _run(data: Mixed, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data.data), *args], env={})


@pytest.mark.parametrize(
    "args",
    [
        ("budget", "--list", "nosuch"),
        ("list:nosuch budget",),
        ("list:nosuch",),
        (f"list:{PUBLIC_LIST} OR list:nosuch",),
    ],
)
def test_an_unknown_list_is_refused(mixed: Mixed, args: tuple[str, ...]) -> None:
    result = _run(mixed, "search", *args)
    assert result.exit_code == 2, result.output
    assert "unknown list 'nosuch'" in result.output
    assert "messages match" not in result.output
    stats = _run(mixed, "stats", "--list", "nosuch")
    assert stats.exit_code == 2 and "unknown list 'nosuch'" in stats.output


def test_a_private_list_needs_include_private(mixed: Mixed) -> None:
    for args in (("budget", "--list", PRIVATE_LIST), (f"list:{PRIVATE_LIST}",)):
        result = _run(mixed, "search", *args)
        assert result.exit_code == 2, result.output
        assert f"list '{PRIVATE_LIST}' is private: add --include-private" in result.output
        found = _run(mixed, "search", *args, "--include-private", "--json")
        assert found.exit_code == 0, found.output
    assert _run(mixed, "search", f"list:{PUBLIC_LIST}").output.startswith("5 messages match")


def test_a_bad_query_keeps_its_exit_code(mixed: Mixed) -> None:
    result = _run(mixed, "search", "thread:")
    assert result.exit_code == 1 and "thread: needs an id" in result.output
