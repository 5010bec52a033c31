"""Parsing member rosters exported by Mailman.  Pure functions: text in, `ParsedRoster` out.

Formats (what the real tools write; see docs/migration-audit.md#rosters):

- `mailman2`: Mailman 2.1 `bin/list_members LIST` prints one address per line (lower-cased
  unless `-p`; regular members, then digest members, each sorted); with `-f/--fullnames`
  each line is `formataddr((name, address))`, i.e. `Jane Doe <jane@example.org>` or
  `"Doe, Jane" <jane@example.org>`.  Mailman 3's `mailman members LIST` writes the same
  `Name <address>` lines (non-ASCII names as RFC 2047 encoded words, since Python 3's
  `formataddr` encodes them) and `LIST has no members` for an empty list.  Blank lines and
  `#` comments (a line starting with `#`, or the rest of a line from a `#` after whitespace,
  outside a quoted name) are ignored; any other line without an address is reported as
  skipped.  Neither tool writes several addresses on a line, but hand-edited files do: a line
  `a@x.org, Name <b@y.org>` gives every address it holds (`email.utils.getaddresses`), with a
  warning; a line whose addresses cannot be told apart (`a@x.org b@y.org`) is skipped whole.
- `mailman3-csv`: Postorius's "CSV Export" on a list's members page (`csv_view`, served as
  `Subscribers.csv`) writes one row per member holding just the address, without a header.
  A header row (a row without an address) is accepted, and then the columns named
  `email`/`address` and `display_name`/`name` are used; without a header the first cell
  holding an address is the address and the next non-empty cell, if any, the name (every
  cell holding an address is a member: a second address is never taken for a name).
- `mailman3-json`: the Mailman 3 REST API's member collections,
  `GET /3.0/lists/<list>/roster/member` (or `/3.1/...`) and `GET /3.0/members`: an object
  `{"entries": [{"email", "display_name", "role", "list_id", "delivery_mode", ...}],
  "start", "total_size", "http_etag"}`.  Entries whose `role` is not `member` (owners,
  moderators, nonmembers, which `/members` also returns) are left out; an export that covers
  several lists must be narrowed with `list_id`; a page that holds fewer entries than
  `total_size` gives a warning (the REST API pages with `?count=&page=`).

In every format an address must have a non-empty local part and a domain with a dot (no empty
label, nothing but letters, digits, `-` and `_` in a label) and no spaces, quotes or brackets;
an entry that holds an invalid address is skipped, never stored, and a warning gives the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.utils import getaddresses, parseaddr
from typing import Any

from store.names import normalize_address

MAILMAN2, MAILMAN3_CSV, MAILMAN3_JSON = "mailman2", "mailman3-csv", "mailman3-json"
FORMATS = (MAILMAN2, MAILMAN3_CSV, MAILMAN3_JSON)
_EMAIL_COLUMNS = ("email", "address", "email address", "e-mail")
_NAME_COLUMNS = ("display_name", "name", "display name", "full name", "fullname")


class RosterFormatError(ValueError):
    """The file is not a roster in the given (or any known) format."""


@dataclass(frozen=True, slots=True)
class RosterMember:
    address: str  # normalised (store.names.normalize_address)
    name: str = ""


@dataclass(frozen=True, slots=True)
class ParsedRoster:
    format: str
    members: tuple[RosterMember, ...]  # one per address, in file order
    skipped: tuple[str, ...] = ()  # lines or entries that hold no (valid) address
    warnings: tuple[str, ...] = ()


def _decode_name(name: str) -> str:
    name = name.strip()
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except (ValueError, LookupError, UnicodeError):
            pass
    return " ".join(name.split())


def _dedupe(members: list[RosterMember]) -> tuple[RosterMember, ...]:
    seen: dict[str, RosterMember] = {}
    for member in members:
        known = seen.get(member.address)
        if known is None or (not known.name and member.name):
            seen[member.address] = member
    return tuple(seen.values())


def parse_mailman2(text: str) -> ParsedRoster:
    """`list_members [-f]` (or Mailman 3 `mailman members`) output."""
    members: list[RosterMember] = []
    skipped: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, address = parseaddr(stripped)
        normal = normalize_address(address) if "@" in address else ""
        if not normal:
            if not stripped.endswith(" has no members"):
                skipped.append(stripped)
            continue
        members.append(RosterMember(normal, _decode_name(name)))
    return ParsedRoster(MAILMAN2, _dedupe(members), tuple(skipped))


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [h.strip().lower() for h in header]
    return next((folded.index(n) for n in names if n in folded), None)


def parse_mailman3_csv(text: str) -> ParsedRoster:
    """Postorius's member CSV export (one address a row), with or without a header row."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    members: list[RosterMember] = []
    skipped: list[str] = []
    email_col = name_col = None
    if rows and not any("@" in c for c in rows[0]):
        email_col = _column(rows[0], _EMAIL_COLUMNS)
        name_col = _column(rows[0], _NAME_COLUMNS)
        if email_col is None:
            raise RosterFormatError(f"CSV header without an email column: {rows[0]}")
        rows = rows[1:]
    for row in rows:
        cells = [c.strip() for c in row]
        if email_col is not None:
            address = cells[email_col] if email_col < len(cells) else ""
            name = cells[name_col] if name_col is not None and name_col < len(cells) else ""
        else:
            at = next((i for i, c in enumerate(cells) if "@" in c), None)
            address = cells[at] if at is not None else ""
            rest = [c for i, c in enumerate(cells) if at is not None and i > at and c]
            name = rest[0] if rest else ""
        display, parsed = parseaddr(address)
        normal = normalize_address(parsed)
        if not normal:
            skipped.append(",".join(cells))
            continue
        members.append(RosterMember(normal, _decode_name(name or display)))
    return ParsedRoster(MAILMAN3_CSV, _dedupe(members), tuple(skipped))


def _entry_address(entry: dict[str, Any]) -> str:
    email = entry.get("email")
    if isinstance(email, str) and email:
        return normalize_address(email)
    address = entry.get("address")  # a URL .../addresses/<email> in the REST API
    if isinstance(address, str) and address:
        return normalize_address(address.rstrip("/").rsplit("/", 1)[-1])
    return ""


def parse_mailman3_json(text: str, list_id: str | None = None) -> ParsedRoster:
    """A Mailman 3 REST member collection (`roster/member` or `/members`)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RosterFormatError(f"not JSON: {exc}") from exc
    if isinstance(data, dict):
        entries = data.get("entries", [])
        total = data.get("total_size")
    elif isinstance(data, list):
        entries, total = data, None
    else:
        raise RosterFormatError("JSON roster must be an object with `entries` or an array")
    if not isinstance(entries, list):
        raise RosterFormatError("`entries` must be an array")
    warnings: list[str] = []
    if isinstance(total, int) and total > len(entries):
        warnings.append(
            f"the file holds {len(entries)} of {total} entries: the REST API pages its answers "
            "(?count=N&page=P); export every page"
        )
    entries = [e for e in entries if isinstance(e, dict)]
    ids = sorted({str(e["list_id"]) for e in entries if e.get("list_id")})
    if list_id is not None:
        entries = [e for e in entries if e.get("list_id") in (None, "", list_id)]
    elif len(ids) > 1:
        raise RosterFormatError(
            f"the export holds the members of several lists ({', '.join(ids)}): "
            "export one list's roster (/lists/<list>/roster/member)"
        )
    others = [e for e in entries if e.get("role", "member") != "member"]
    if others:
        warnings.append(f"{len(others)} entries are not members (owners, moderators, ...)")
    members: list[RosterMember] = []
    skipped: list[str] = []
    for entry in entries:
        if entry.get("role", "member") != "member":
            continue
        address = _entry_address(entry)
        if not address:
            skipped.append(json.dumps(entry, sort_keys=True)[:200])
            continue
        name = entry.get("display_name")
        members.append(RosterMember(address, _decode_name(name if isinstance(name, str) else "")))
    return ParsedRoster(MAILMAN3_JSON, _dedupe(members), tuple(skipped), tuple(warnings))


def detect_format(text: str, filename: str = "") -> str:
    """JSON when it starts with `{` or `[`; a `.csv` file is CSV; `Name <address>` lines are
    Mailman 2/3 text; a first line with two or more comma-separated cells is CSV; otherwise
    one address a line (which a one-column Postorius CSV also is)."""
    body = text.lstrip("\ufeff").strip()
    if body.startswith(("{", "[")):
        return MAILMAN3_JSON
    if filename.lower().endswith(".csv"):
        return MAILMAN3_CSV
    lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if any("<" in ln and ">" in ln for ln in lines):
        return MAILMAN2
    if lines and len(next(csv.reader([lines[0]]))) >= 2:
        return MAILMAN3_CSV
    return MAILMAN2


def parse_roster(
    text: str, fmt: str = "auto", *, list_id: str | None = None, filename: str = ""
) -> ParsedRoster:
    """Parse a roster export; `fmt` is one of FORMATS or `auto` (which also looks at the
    file name's extension)."""
    text = text.lstrip("\ufeff")
    chosen = detect_format(text, filename) if fmt == "auto" else fmt
    if chosen == MAILMAN2:
        return parse_mailman2(text)
    if chosen == MAILMAN3_CSV:
        return parse_mailman3_csv(text)
    if chosen == MAILMAN3_JSON:
        return parse_mailman3_json(text, list_id)
    raise RosterFormatError(f"unknown roster format {fmt!r} (auto, {', '.join(FORMATS)})")
