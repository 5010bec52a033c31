"""Address headers: pipermail `user at host (Name)`, plain forms, flanker, then the stdlib.

Pipermail's obfuscated form is recognised by a regex first (flanker would reject it), then
a list of plain ASCII forms (`Name <a@b.c>`, `"Quoted" <a@b.c>`, `a@b.c`) by another, giving
flanker's exact result without its grammar (task IN4).  Other headers go to flanker
(imported lazily, its grammar chatter hidden); when flanker finds no valid mailbox, a bare
`Name local@domain` header (old mailers wrote no `<>`) gives its one address token and the
name around it; then `email.utils.getaddresses` (more lenient) is the fallback, and a
`left (comment)` form is kept verbatim as a last resort.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
import warnings
from email.utils import getaddresses
from types import ModuleType
from typing import Any

from ingest.decode import decode_header
from store.models import Address

__all__ = ["parse_address_list", "parse_from"]

log = logging.getLogger(__name__)

_PIPERMAIL = re.compile(r"\s*([^\s@()<>\"]+) at ([^\s@()<>\"]+\.[^\s@()<>\"]+)\s*(?:\((.*)\))?\s*")
_VALID = re.compile(r"[^@\s<>()\",;]+@[^@\s<>()\",;]+")
_COMMENT_FORM = re.compile(r"\s*([^<>()\"]+?)\s*\(([^()]*)\)\s*")
_AT_WORD = re.compile(r"^([^\s@()<>\"]+) at ([^\s@()<>\"]+\.[^\s@()<>\"]+)$")
_WS = re.compile(r"\s+")
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.?")
_LOCAL_PART = re.compile(_LOCAL)
_AT_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+\.?")
_NOT_BARE = re.compile(r"[<>,;]")
# the fast path's plain forms (`Name <local@domain>`, `"Quoted" <a@b>`, `local@domain`, in a
# comma-separated list): ASCII only, no encoded word, no comment, no escape, a dot-atom local
# part and a dotted domain with a letters-only top label; anything else goes to flanker
_F_ADDR = (
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_F_NAME = r"[A-Za-z0-9'_+/.-]+(?:[ \t]+[A-Za-z0-9'_+/.-]+)*"
_F_QUOTED = r'"[ !#-\[\]-~]+"'
_F_ITEM = re.compile(
    rf"[ \t]*(?:(?:(?P<name>{_F_NAME})[ \t]*|(?P<quoted>{_F_QUOTED})[ \t]*)?"
    rf"<(?P<angle>{_F_ADDR})>|(?P<bare>{_F_ADDR}))[ \t]*(?P<comma>,?)"
)
_flanker: ModuleType | None = None
_CACHED = 8192
"""Distinct header values whose parse is remembered (per process)."""
_flanker_failed = False


def _flanker_address() -> ModuleType | None:
    """Import flanker's address parser once, hiding the ply grammar chatter it prints."""
    global _flanker, _flanker_failed
    if _flanker is not None or _flanker_failed:
        return _flanker
    loggers = [logging.getLogger(name) for name in ("flanker", "ply")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stderr(io.StringIO()),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            from flanker.addresslib import address as flanker_address

        _flanker = flanker_address
        # its lexer sets its own logger to INFO when imported and warns about every header
        # it cannot read ("syntax error in comment lexer"); the fallbacks below read those,
        # so flanker's loggers say errors only, in every process (parser workers too)
        for name in list(logging.root.manager.loggerDict):
            if name == "flanker" or name.startswith("flanker."):
                logging.getLogger(name).setLevel(logging.ERROR)
    except Exception:  # noqa: BLE001 - flanker is optional; the stdlib result is kept
        log.warning("flanker unavailable; using stdlib address parsing only", exc_info=True)
        _flanker_failed = True
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    return _flanker


def _via_flanker(value: str) -> list[tuple[str, str]]:
    module = _flanker_address()
    if module is None:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed: Any = module.parse_list(value)
        except Exception:  # noqa: BLE001 - flanker raises assorted errors on junk
            return []
    out: list[tuple[str, str]] = []
    for item in parsed or []:
        addr = str(getattr(item, "address", "") or "")
        name = str(getattr(item, "display_name", "") or "")
        if "@" in addr:
            out.append((name, addr))
    return out


def _clean_name(raw: str) -> str:
    name, _ = decode_header(raw)
    name = name.strip().strip("\"'").strip()
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1].strip()
    return name.replace('\\"', '"')


def _make(name: str, addr: str) -> Address:
    addr = addr.strip().strip("<>").strip()
    if "@" not in addr and " at " not in addr and (not name or addr.startswith("=?")):
        # a bare display name (often an encoded word) without any address
        return Address(name=_clean_name(f"{name} {addr}".strip()), address="")
    match = _AT_WORD.match(addr)
    if match:
        addr = f"{match.group(1)}@{match.group(2)}"
    if not addr.isascii():
        addr, _ = decode_header(addr)
    return Address(name=_clean_name(name), address=addr.lower())


def parse_from(value: str) -> Address:
    """The first mailbox of a From header (empty Address when there is none)."""
    found = parse_address_list([value], first_only=True)
    if found:
        return found[0]
    name = _clean_name(value) if value.strip() else ""
    return Address(name=name, address="")


def parse_address_list(values: list[str], first_only: bool = False) -> tuple[Address, ...]:
    """All mailboxes in the given header values (To/Cc may repeat), in order."""
    out: list[Address] = []
    for value in values:
        if not value or not value.strip():
            continue
        found = _parse_value(value)
        if first_only and found:
            return found[:1]
        out.extend(found)
    return tuple(out)


@functools.lru_cache(maxsize=_CACHED)
def _parse_value(value: str) -> tuple[Address, ...]:
    """The mailboxes of one header value.  A pure function of the value, so cached: a list's
    messages repeat the same From and To/Cc values (the list address, its regulars), and
    parsing them (flanker's grammar, then the stdlib's) was half of all parsing time."""
    out: list[Address] = []
    value = value.replace("\r", "").replace("\n", " ")
    match = _PIPERMAIL.fullmatch(value)
    if match:
        addr = f"{match.group(1)}@{match.group(2)}"
        return (_make(match.group(3) or "", addr),)
    fast = _plain_pairs(value)
    if fast is not None:
        return tuple(_make(name, addr) for name, addr in fast)
    lenient = [(n, a) for n, a in getaddresses([value]) if n or a]
    pairs = _via_flanker(value)
    if pairs:
        # flanker drops display names it cannot decode (e.g. mislabelled charsets); keep
        # the stdlib's raw name for the same address, which decode_header repairs
        names = {a.lower(): n for n, a in lenient if n}
        pairs = [(n or names.get(a.lower(), ""), a) for n, a in pairs]
    else:  # flanker rejects it (or is unavailable)
        bare = _bare_mailbox(value)
        if bare is not None:
            return (bare,)
        # the stdlib is more lenient (its items of a To/Cc list may be bare mailboxes too);
        # `@host` alone (what it makes of `a@host b@host`) is no address
        pairs = [_unbare(n, a) for n, a in lenient if not a.startswith("@")]
        if not pairs or any(not _VALID.fullmatch(a) and not _AT_WORD.match(a) for _, a in pairs):
            odd = _COMMENT_FORM.fullmatch(value)
            if odd:  # e.g. an archive's own obfuscation: keep it verbatim
                pairs = [(odd.group(2), _WS.sub(" ", odd.group(1)))]
    for name, addr in pairs:
        if not addr and not name:
            continue
        out.append(_make(name, addr))
    return tuple(out)


def _plain_pairs(value: str) -> list[tuple[str, str]] | None:
    """The (name, address) pairs of a list of plain forms only, as flanker and the stdlib's
    names for bare items give them (tests/ingest/test_address_fast.py compares every
    corpus header and random ones); None for anything else.  Flanker's grammar was most of
    the exports' address time (task IN4)."""
    if "=?" in value or "xn--" in value.lower():  # encoded words, IDNA: flanker decodes them
        return None
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while True:
        match = _F_ITEM.match(value, pos)
        if match is None:
            return None
        if match["angle"]:
            # flanker's phrase: its words joined by one space
            name = " ".join(match["name"].split()) if match["name"] else ""
            name = name or (match["quoted"] or "")[1:-1]
            pairs.append((name, match["angle"]))
        else:
            pairs.append(("", match["bare"]))
        pos = match.end()
        if not match["comma"]:
            break
    if pos != end:
        return None
    # a bare item takes the name another item gives the same address (as the flanker path)
    names = {a.lower(): n for n, a in pairs if n}
    return [(n or names.get(a.lower(), ""), a) for n, a in pairs]


def _unbare(name: str, addr: str) -> tuple[str, str]:
    bare = _bare_mailbox(addr) if " " in addr.strip() else None
    return (name or bare.name, bare.address) if bare is not None else (name, addr)


def _bare_mailbox(value: str) -> Address | None:
    """`Glyph Lefkowitz glyph@divunal.com`: a header without `<>` whose words hold exactly
    one address (an addr-spec token, or pipermail's `local at domain`; written twice counts
    once), the other words (none with an `@`) being the display name.  None for anything
    else: an address is never made from words that are not one."""
    if _NOT_BARE.search(value):
        return None
    words = value.split()
    found: set[str] = set()
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if _ADDR_SPEC.fullmatch(word):
            found.add(word.rstrip(".").lower())
            i += 1
        elif (
            i + 2 < len(words)
            and words[i + 1] == "at"
            and _LOCAL_PART.fullmatch(word)
            and _AT_DOMAIN.fullmatch(words[i + 2])
        ):
            found.add(f"{word}@{words[i + 2].rstrip('.')}".lower())
            i += 3
        else:
            rest.append(word)
            i += 1
    if len(found) != 1 or any("@" in word for word in rest):
        return None  # none, several, or garbled ones around it (`a@b m@i@g (a@b m@i@g)`)
    return Address(name=_clean_name(" ".join(rest)) if rest else "", address=found.pop())
