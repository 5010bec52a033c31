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
from email.utils import getaddresses
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
    # the export says the list has no members (`LIST has no members`, a REST answer with
    # total_size 0): an empty roster that is meant, not a file that is not a roster
    empty_export: bool = False


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


_LOCAL_BAD = re.compile(r'[\s\x00-\x1f\x7f<>()\[\],;:"\\@]')
_LABEL = re.compile(r"^\w(?:[\w-]*\w)?$")
_COMMENT = re.compile(r"(?:^|\s)#")
_EMPTY = re.compile(r"^\S+ has no members$")  # Mailman 3 `mailman members` on an empty list


def address_problem(address: str) -> str:
    """Why `address` (normalised) cannot be a member's address, or "" when it can: it needs a
    local part and a domain with a dot, without spaces, quotes, brackets or empty labels."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "no address"
    if not local:
        return "nothing before the @"
    if _LOCAL_BAD.search(local):
        return "a space, quote, bracket, comma or second @ before the @"
    if not domain:
        return "no domain after the @"
    if "." not in domain:
        return f"the domain {domain!r} has no dot"
    if not all(_LABEL.match(label) for label in domain.split(".")):
        return f"the domain {domain!r} is not a domain name"
    return ""


def _blank_quotes(text: str) -> str:
    """`text` with what is inside double quotes replaced by `_` (same length)."""
    out: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
            out.append("_")
        elif quoted and char == "\\":
            escaped = True
            out.append("_")
        elif char == '"':
            quoted = not quoted
            out.append(char)
        else:
            out.append("_" if quoted else char)
    return "".join(out)


def _strip_comment(line: str) -> str:
    """`line` without a `#` comment: from a `#` at the start or after whitespace, outside a
    quoted name (`"Team #1" <t@example.org>` keeps its name)."""
    found = _COMMENT.search(_blank_quotes(line))
    return line[: found.start()].rstrip() if found else line


def _addresses(text: str) -> list[tuple[str, str]] | None:
    """The (name, address) pairs written in `text`: `a@x.org`, `Name <a@x.org>`, or several
    separated by commas (`email.utils.getaddresses`); an unquoted name with a comma (`Doe, Jane
    <jane@x.org>`) stays one name.  None when the addresses cannot be told apart (`a@x.org
    b@y.org`: not as many addresses as `@` signs), text is left over that is none, or the parser
    changed an address (`a@ex ample.org` would be read as `a@example.org`)."""
    pairs: list[tuple[str, str]] = []
    pending: list[str] = []
    for name, address in getaddresses([text]):
        if "@" in address:
            if address not in text:
                return None
            if pending and not name:
                return None
            pairs.append((", ".join([*pending, name]), address))
            pending = []
        elif name or address:
            pending.append(name or address)
    if pending or len(pairs) != _blank_quotes(text).count("@"):
        return None
    return pairs


class _Collector:
    """Members, skipped entries and warnings, as a roster is read."""

    def __init__(self) -> None:
        self.members: list[RosterMember] = []
        self.skipped: list[str] = []
        self.warnings: list[str] = []

    def skip(self, entry: str, where: str, reason: str) -> None:
        self.skipped.append(entry)
        self.warnings.append(f"{where}: `{entry}` skipped: {reason}")

    def address(self, raw: str, name: str, where: str, entry: str = "") -> None:
        """One member when `raw` is a valid address, else a skipped `entry` (or `raw`)."""
        normal = normalize_address(raw)
        problem = address_problem(normal) if normal else "not an address"
        if problem:
            self.skip(entry or raw.strip(), where, problem)
        else:
            self.members.append(RosterMember(normal, _decode_name(name)))

    def text(self, text: str, where: str, name: str = "") -> None:
        """The addresses written in `text` (a line or a cell); `name` names a single one."""
        pairs = _addresses(text)
        if not pairs:
            self.skip(text, where, "cannot read it as addresses separated by commas")
            return
        if len(pairs) > 1:
            self.warnings.append(f"{where} holds {len(pairs)} addresses; each is a member")
        for display, raw in pairs:
            shown = f"{display} <{raw}>" if display else raw
            self.address(raw, (name if len(pairs) == 1 else "") or display, where, shown)

    def roster(
        self, fmt: str, warnings: list[str] | None = None, *, empty_export: bool = False
    ) -> ParsedRoster:
        return ParsedRoster(
            fmt,
            _dedupe(self.members),
            tuple(self.skipped),
            tuple([*(warnings or []), *self.warnings]),
            empty_export and not self.members,
        )


def parse_mailman2(text: str) -> ParsedRoster:
    """`list_members [-f]` (or Mailman 3 `mailman members`) output."""
    found = _Collector()
    declared_empty = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = _strip_comment(line.strip())
        if not stripped:
            continue
        if _EMPTY.match(stripped):
            declared_empty = True
            continue
        if "@" not in _blank_quotes(stripped):
            found.skipped.append(stripped)
            continue
        found.text(stripped, f"line {number}")
    return found.roster(MAILMAN2, empty_export=declared_empty and not found.skipped)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [h.strip().lower() for h in header]
    return next((folded.index(n) for n in names if n in folded), None)


def parse_mailman3_csv(text: str) -> ParsedRoster:
    """Postorius's member CSV export (one address a row), with or without a header row."""
    reader = csv.reader(io.StringIO(text))
    rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    found = _Collector()
    email_col = name_col = None
    if rows and not any("@" in c for c in rows[0][1]):
        email_col = _column(rows[0][1], _EMAIL_COLUMNS)
        name_col = _column(rows[0][1], _NAME_COLUMNS)
        if email_col is None:
            raise RosterFormatError(f"CSV header without an email column: {rows[0][1]}")
        rows = rows[1:]
    for number, row in rows:
        cells = [c.strip() for c in row]
        entries: list[tuple[str, str]] = []  # (name, cell holding the address)
        if email_col is not None:
            address = cells[email_col] if email_col < len(cells) else ""
            name = cells[name_col] if name_col is not None and name_col < len(cells) else ""
            if "@" in address:
                entries.append((name, address))
        else:
            for i, cell in enumerate(cells):
                if "@" in cell:
                    after = next((c for c in cells[i + 1 :] if c), "")
                    entries.append(("" if "@" in after else after, cell))
        if not entries:
            found.skipped.append(",".join(cells))
            continue
        for name, cell in entries:
            found.text(cell, f"row {number}", name)
    return found.roster(MAILMAN3_CSV)


def _entry_address(entry: dict[str, Any]) -> str:
    email = entry.get("email")
    if isinstance(email, str) and email.strip():
        return email
    address = entry.get("address")  # a URL .../addresses/<email> in the REST API
    if isinstance(address, str) and address.strip():
        return address.strip().rstrip("/").rsplit("/", 1)[-1]
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
    found = _Collector()
    numbered: list[tuple[int, dict[str, Any]]] = []
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, dict):
            numbered.append((number, entry))
        else:
            found.skip(json.dumps(entry)[:200], f"entry {number}", "not an object")
    ids = sorted({str(e["list_id"]) for _, e in numbered if e.get("list_id")})
    if list_id is not None:
        kept = [(n, e) for n, e in numbered if e.get("list_id") in (None, "", list_id)]
        if len(kept) < len(numbered):
            warnings.append(f"{len(numbered) - len(kept)} entries of other lists left out")
        numbered = kept
    elif len(ids) > 1:
        raise RosterFormatError(
            f"the export holds the members of several lists ({', '.join(ids)}): "
            "export one list's roster (/lists/<list>/roster/member)"
        )
    others = [e for _, e in numbered if e.get("role", "member") != "member"]
    if others:
        warnings.append(f"{len(others)} entries are not members (owners, moderators, ...)")
    for number, entry in numbered:
        if entry.get("role", "member") != "member":
            continue
        shown = json.dumps(entry, sort_keys=True)[:200]
        address = _entry_address(entry)
        if not address:
            found.skipped.append(shown)
            continue
        name = entry.get("display_name")
        found.address(address, name if isinstance(name, str) else "", f"entry {number}", shown)
    return found.roster(MAILMAN3_JSON, warnings, empty_export=total == 0 and not entries)


def detect_format(text: str, filename: str = "") -> str:
    """JSON when it starts with `{` or `[`; a `.csv` file is CSV; `Name <address>` lines are
    Mailman 2/3 text; a first line with two or more comma-separated cells is CSV; otherwise
    one address a line (which a one-column Postorius CSV also is)."""
    body = text.lstrip("\ufeff").strip()
    if body.startswith(("{", "[")):
        return MAILMAN3_JSON
    if filename.lower().endswith(".csv"):
        return MAILMAN3_CSV
    lines = [ln for ln in (_strip_comment(ln.strip()) for ln in body.splitlines()) if ln]
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
