"""The one rule for the names of lists and communities.

A name is a key in the store and a path segment of the web UI (`/lists/<name>/`,
`/audit/<community>.json`, `/rosters/<name>.csv`), so it must survive a URL unchanged: 1 to 64
letters, digits, `.`, `_` or `-`, starting with a letter or digit (so never `.` or `..`, never
a slash or a space), and not ending in a page twin's suffix (`x.json` would be the JSON twin of
`x`).  Every entry point checks it (`lists add`, `communities add`, `[lists.NAME]` and
`[communities.NAME]` in the settings file, and the store itself as the last line of defence);
names already stored under an older, looser rule are still read.
"""

from __future__ import annotations

import re

MAX_LENGTH = 64
RESERVED_SUFFIXES = (".json", ".csv", ".mbox")
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_LENGTH - 1}}}")


class InvalidNameError(ValueError):
    """A list or community name that breaks the rule; the message says what is allowed."""


def name_problem(name: str, what: str = "list") -> str | None:
    """The message saying why `name` cannot be a `what` ("list", "community") name, or None."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return (
            f"{what} name {name!r} is not valid: use letters, digits, '.', '_' or '-' "
            f"(at most {MAX_LENGTH}), starting with a letter or digit"
        )
    if name.lower().endswith(RESERVED_SUFFIXES):
        return (
            f"{what} name {name!r} is not valid: it must not end in "
            f"{', '.join(RESERVED_SUFFIXES)} (its page would be another's export)"
        )
    return None


def check_name(name: str, what: str = "list") -> str:
    """`name` itself, or InvalidNameError with the rule."""
    problem = name_problem(name, what)
    if problem is not None:
        raise InvalidNameError(problem)
    return name
