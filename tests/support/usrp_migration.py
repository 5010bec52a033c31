"""The usrp-users list before and after its move from Mailman 2.1 to Mailman 3 (March 2021) as
two lists of one community, built from the shared corpus (never copied into the repository).

`../shared/corpus/hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz` holds 719 messages: the
first 46 carry `X-Mailman-Version: 2.1.33` (the old list), the other 673 `3.3.3` (the new
list).  `split_usrp` cuts it by that header into two mbox files; `usrp_data_dir` syncs them as
the lists `usrp-old` and `usrp-new` (variant "split"), or the old era plus the whole file as
the new list (variant "imported": a new archive into which the old one was imported, as
`hyperkitty_import` does), once per test session, and hands each test a fresh copy.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from listarchive.cli import cli

USRP = "hyperkitty/usrp-users-2021-03_to_2021-05.mbox.gz"
OLD, NEW, COMMUNITY = "usrp-old", "usrp-new", "usrp"
_FROM_LINE = re.compile(rb"(?m)^(?=From \S)")
_BUILT: dict[str, Path] = {}


def _version(message: bytes) -> bytes:
    headers = message.split(b"\n\n", 1)[0]
    found = re.search(rb"(?m)^X-Mailman-Version: *(\S+)", headers)
    return found.group(1) if found else b""


def split_usrp(corpus: Path, folder: Path) -> tuple[Path, Path, Path]:
    """(old-era mbox, new-era mbox, the whole slice) in `folder`."""
    whole = folder / "usrp-all.mbox"
    raw = gzip.decompress((corpus / USRP).read_bytes())
    whole.write_bytes(raw)
    messages = [m for m in _FROM_LINE.split(raw) if m.strip()]
    old = [m for m in messages if _version(m) == b"2.1.33"]
    new = [m for m in messages if _version(m) == b"3.3.3"]
    assert (len(messages), len(old), len(new)) == (719, 46, 673)
    (folder / "usrp-old.mbox").write_bytes(b"".join(old))
    (folder / "usrp-new.mbox").write_bytes(b"".join(new))
    return folder / "usrp-old.mbox", folder / "usrp-new.mbox", whole


def invoke(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _build(corpus: Path, folder: Path, variant: str) -> Path:
    old, new, whole = split_usrp(corpus, folder)
    data = folder / "data"
    invoke(data, "lists", "add", OLD, "--mbox", str(old))
    invoke(data, "lists", "add", NEW, "--mbox", str(whole if variant == "imported" else new))
    invoke(data, "sync")
    return data


def usrp_data_dir(
    corpus: Path, factory: pytest.TempPathFactory, dest: Path, variant: str = "split"
) -> Path:
    """A fresh copy of the synced store (lists only; no community yet) in `dest`."""
    if variant not in _BUILT:
        _BUILT[variant] = _build(corpus, factory.mktemp(f"usrp-{variant}"), variant)
    shutil.copytree(_BUILT[variant], dest)
    return dest
