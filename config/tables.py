"""The lists and communities declared in the TOML file (`[lists.NAME]`,
`[communities.NAME]`): their records and their parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from config.checks import check_date, check_origin, check_url
from config.errors import ConfigError


class ListConfig(NamedTuple):  # not a dataclass: a tenth of the cost to import (issue 14)
    """A list declared in the TOML file (`[lists.NAME]`)."""

    name: str
    source: str
    """`pipermail`, `mbox`, `maildir` or `hyperkitty`."""
    url: str = ""
    paths: tuple[str, ...] = ()
    community: str = ""
    schedule: str = ""
    """How often the scheduler syncs it (`30m`, `6h`, `cron: 0 * * * *`); default
    `scheduler.interval`."""
    address: str = ""
    """The list's posting address: required for `hyperkitty` lists (HyperKitty keys archives
    by it), optional for the others; the web UI's reply links (`mailto:`) go to it."""
    allow_origins: tuple[str, ...] = ()
    """Other origins (`https://host[:port]`) its archive may be fetched from: the archive
    moved and the old host redirects there (a list's own URL's origin is always allowed)."""


class CommunityConfig(NamedTuple):  # not a dataclass (issue 14)
    """A community declared in the TOML file (`[communities.NAME]`)."""

    name: str
    lists: tuple[str, ...]
    cutover: str = ""
    closed: str = ""
    old: str = ""
    """The old list of a community that moved lists (one of `lists`); inferred when empty."""
    new: str = ""
    """The new list (one of `lists`); inferred when empty."""


def parse_lists(table: Mapping[str, Any], origin: str) -> tuple[ListConfig, ...]:
    lists = []
    for name, spec in table.items():
        if not isinstance(spec, Mapping):
            raise ConfigError(f"lists.{name} in {origin}: expected a table")
        schedule = str(spec.get("schedule", ""))
        origins = _parse_origins(spec, f"lists.{name}")
        posting = str(spec.get("address", "")).strip()
        if posting and ("@" not in posting or any(c.isspace() for c in posting)):
            raise ConfigError(f"lists.{name}.address in {origin}: expected LIST@DOMAIN")
        kind, url, paths = _source(spec, f"lists.{name}", origin)
        if kind == "hyperkitty" and "@" not in posting:
            raise ConfigError(
                f"lists.{name} in {origin}: `hyperkitty = URL` needs `address = LIST@DOMAIN`"
            )
        lists.append(
            ListConfig(
                name,
                kind,
                url=url,
                paths=paths,
                community=str(spec.get("community", "")),
                schedule=schedule,
                address=posting,
                allow_origins=origins,
            )
        )
    return tuple(lists)


def _source(spec: Mapping[str, Any], what: str, origin: str) -> tuple[str, str, tuple[str, ...]]:
    """The list's source: its kind, its URL (pipermail, hyperkitty) or its paths (mbox,
    maildir)."""
    for kind in ("pipermail", "hyperkitty"):
        if kind in spec:
            url = str(spec[kind])
            check_url(url, f"{what}.{kind}")
            return kind, url, ()
    if "mbox" in spec and "maildir" in spec:
        raise ConfigError(f"{what} in {origin}: `mbox` or `maildir`, not both")
    for kind in ("mbox", "maildir"):
        if kind in spec:
            raw = spec[kind]
            return kind, "", (raw,) if isinstance(raw, str) else tuple(map(str, raw))
    raise ConfigError(
        f"{what} in {origin}: needs `pipermail = URL`, `mbox = [...]`, "
        "`maildir = DIR` or `hyperkitty = URL` with `address`"
    )


def _parse_origins(spec: Mapping[str, Any], what: str) -> tuple[str, ...]:
    raw = spec.get("allow_origins", [])
    if isinstance(raw, str) or not isinstance(raw, list):
        raise ConfigError(f"{what}.allow_origins: expected a list of origins (https://host)")
    if raw and ("mbox" in spec or "maildir" in spec):
        raise ConfigError(f"{what}.allow_origins: only for pipermail and hyperkitty lists")
    return tuple(check_origin(str(o), f"{what}.allow_origins") for o in raw)


def parse_communities(table: Mapping[str, Any], origin: str) -> tuple[CommunityConfig, ...]:
    found = []
    for name, spec in table.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("lists"), list):
            raise ConfigError(f"communities.{name} in {origin}: needs `lists = [...]`")
        dates = {}
        for key in ("cutover", "closed"):
            value = str(spec.get(key, ""))
            if value:
                check_date(value, f"communities.{name}.{key}")
            dates[key] = value
        members = tuple(map(str, spec["lists"]))
        roles = {}
        for key in ("old", "new"):
            value = str(spec.get(key, ""))
            if value and value not in members:
                raise ConfigError(
                    f"communities.{name}.{key} in {origin}: {value!r} is not one of its lists"
                )
            roles[key] = value
        if roles["old"] and roles["old"] == roles["new"]:
            raise ConfigError(f"communities.{name} in {origin}: `old` and `new` are the same list")
        found.append(CommunityConfig(name, members, **dates, **roles))
    return tuple(found)
