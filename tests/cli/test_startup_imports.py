"""CLI start-up (issue 14): `listarchive search`, `lists` and `--help` do not import what they
never use (the HTTP client, the Elasticsearch client, the ingest pipeline, Flask, flanker),
every lazily imported command is still there, and `--help` describes the commands it does not
import with their own first sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from listarchive.cli import cli
from listarchive.cli_lazy import LAZY_COMMANDS, LAZY_SUMMARIES
from tests.cli.test_cli import setup_lists
from tests.support.archive_server import ArchiveServer

HEAVY = ("httpx", "elasticsearch", "elastic_transport", "flask", "flanker", "gunicorn")
RUN_THEN_LIST_MODULES = (
    "import json, sys\n"
    "from listarchive.cli import main\n"
    "sys.argv = ['listarchive', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
)
OURS = ("listarchive", "config", "store", "search", "ingest", "analytics", "webui")
RUN_THEN_LIST_DATACLASSES = (
    "import dataclasses, sys\n"
    "from listarchive.cli import main\n"
    "sys.argv = ['listarchive', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "found = sorted(f'{name}.{attr}' for name, module in list(sys.modules.items())\n"
    f"    if name.split('.')[0] in {OURS!r}\n"
    "    for attr, value in vars(module).items()\n"
    "    if isinstance(value, type) and dataclasses.is_dataclass(value)\n"
    "    and value.__module__ == name)\n"
    "print('DATACLASSES', *found, file=sys.stderr)\n"
)


def _imported(data_dir: Path, *args: str) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_THEN_LIST_MODULES, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    return done.stdout, modules


@pytest.mark.parametrize(
    "args", [("lists", "--json"), ("search", "deferred"), ("search", "after:2000-01-01", "--json")]
)
def test_light_commands_import_nothing_heavy(data_dir: Path, args: tuple[str, ...]) -> None:
    out, modules = _imported(data_dir, *args)
    assert "listarchive.cli" in modules and out  # the command ran
    assert sorted(name for name in HEAVY if name in modules) == []
    assert sorted(name for name in modules if name.split(".")[0] == "ingest") == []


WRITERS = (
    "store.threading",
    "store.quarantine",
    "store.volume_writer",
    "store.removals",
    "search.indexer",
    "search.index_guard",
    "store.runs",
    "store.locks",
    "tomllib",  # no settings file here
)
"""What only a sync, a reindex or a removal uses (several of them dataclass-heavy)."""


def test_a_search_imports_no_writer_nor_message_records(
    archive_server: ArchiveServer, corpus: Path, data_dir: Path
) -> None:
    setup_lists(archive_server, corpus, data_dir, sync=True)  # a store and an index to read
    out, modules = _imported(data_dir, "search", "reality", "--json")
    assert json.loads(out)["total"] > 0
    out, modules_listing = _imported(data_dir, "lists", "--json")
    assert len(json.loads(out)) == 2
    assert sorted(name for name in (*WRITERS, *MESSAGE_RECORDS) if name in modules_listing) == []
    unused: tuple[str, ...] = (*WRITERS, "store.records", "store.models", "store.identities")
    unused = (*unused, "store.reader", "search.index_doc", "hashlib")  # no documents, OpenSSL
    assert sorted(name for name in unused if name in modules) == []
    # a search that reads snippets from the store creates no other dataclass either
    assert _dataclasses(data_dir, "search", "reality", "--json") <= SEARCH_DATACLASSES


MESSAGE_RECORDS = ("store.records", "store.models", "store.body_parts", "store.communities")
"""The message records and the communities' module (~10 dataclasses, ~8 ms to create):
`lists` reads `store.list_info` only."""


def test_lists_imports_no_search_module_nor_writer(data_dir: Path) -> None:
    _imported(data_dir, "lists")  # creates the store: the second run opens it read-only
    _out, modules = _imported(data_dir, "lists", "--json")
    assert sorted(name for name in WRITERS if name in modules) == []
    assert sorted(name for name in MESSAGE_RECORDS if name in modules) == []
    assert sorted(name for name in modules if name.split(".")[0] == "search" and "." in name) == []


def test_help_imports_no_command_module(data_dir: Path) -> None:
    out, modules = _imported(data_dir, "--help")
    assert "Commands:" in out and "scheduler-health" in out
    lazy_modules = {target.split(":")[0] for target in LAZY_COMMANDS.values()}
    assert sorted(lazy_modules & modules) == []
    assert sorted(name for name in HEAVY if name in modules) == []
    assert sorted(name for name in modules if name.split(".")[0] == "ingest") == []
    # nor the settings, the store, the search modules, the sync and search services
    unused = ("config", "store", "search", "listarchive.app", "listarchive.searching")
    assert sorted(name for name in modules if name.startswith(unused)) == []


@pytest.mark.parametrize("limit", [20, 45, 70, 200])
def test_help_summaries_are_the_commands_own(limit: int) -> None:
    ctx = click.Context(cli)
    assert set(LAZY_SUMMARIES) == set(LAZY_COMMANDS)
    for name, summary in LAZY_SUMMARIES.items():
        command = cli.get_command(ctx, name)
        assert command is not None and not command.hidden
        stand_in = click.Command(name, help=summary)
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_lists_json_still_answers(data_dir: Path) -> None:
    out, _modules = _imported(data_dir, "lists", "--json")
    assert json.loads(out) == []


def test_every_command_is_listed_and_loads() -> None:
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert set(LAZY_COMMANDS) <= set(names)
    for name in ("lists", "sync", "search", "reindex", "quarantine", "serve"):
        assert name in names
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name


def test_main_leaves_nothing_for_the_exit_collections(data_dir: Path) -> None:
    """`main` freezes what is left when the command ends, so the interpreter's collections at
    exit (~10 ms of a search's CPU) walk none of it (checked when the interpreter exits)."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
        "from listarchive.cli import main\n"
        "sys.argv = ['listarchive', *sys.argv[1:]]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--data-dir", str(data_dir), "lists", "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0 and json.loads(done.stdout) == []
    frozen = [line.split() for line in done.stderr.splitlines() if line.startswith("frozen")]
    assert frozen and int(frozen[0][1]) > 10_000  # the modules, the commands, the settings


LISTS_DATACLASSES = {"config.settings.Settings", "store.list_info.ListInfo"}
SEARCH_DATACLASSES = {"config.settings.Settings"}
"""The dataclasses `lists` and a search create (each ~0.5-1 ms of CPU at import: a small
record no one compares across kinds is a NamedTuple, the search's records are
`search.frozen.Frozen`; docs/architecture.md, "CLI start-up")."""


def _dataclasses(data_dir: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_THEN_LIST_DATACLASSES, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    found = [line.split()[1:] for line in done.stderr.splitlines() if line.startswith("DATA")]
    assert found, done.stderr[-500:]
    return set(found[0])


def test_few_dataclasses_are_made_at_start_up(data_dir: Path) -> None:
    _imported(data_dir, "lists")  # creates the store: the second run opens it read-only
    assert _dataclasses(data_dir, "lists", "--json") == LISTS_DATACLASSES
    assert _dataclasses(data_dir, "search", "deferred", "--json") <= SEARCH_DATACLASSES


def test_index_doc_is_still_named_by_search_base() -> None:
    """`search.base.IndexDoc` (the backends' protocol names it) is the class of
    `search.index_doc`, imported when first asked for."""
    import search.base
    from search.base import IndexDoc
    from search.index_doc import IndexDoc as TheClass

    assert IndexDoc is TheClass and search.base.IndexDoc is TheClass
    with pytest.raises(AttributeError):
        search.base.NoSuchName  # noqa: B018
