"""A loaded frame written compactly and read back into the same objects (issue 14, task FS).

Loading a frame from SQL costs ~6.5 us of CPU a post (a million posts: ~6.5 s, paid by the
first statistics request of every web worker); reading its snapshot ~1.2 us.  `encode`
writes a frame's posts, persons and threads as columns of integers (`array`, each of the
narrowest unsigned type its values fit) and tables of strings; `decode` makes the same
`Frame` of them, equal to the one loaded from SQL field by field.  The snapshots are kept in
the store by `store.frame_snapshots`, keyed on what the frame depends on (`scope_key` and
`state_of`, from `analytics.frame`'s cache key); `read` and `keep` are what `load_frame` asks.

The format is parsed here and nothing in it is executed (no pickle, no marshal): a magic
line, a CRC-32 of the rest, a JSON header (the key the snapshot was made for, counts, small
tables, each section's type and sizes), then the sections: tables of strings (each string
after a NUL; subjects and names zlib'd, identifiers as they are) and columns of integers
(little-endian).  A blob that is damaged, of another key or format, or whose sections do not
match their declared sizes or point outside their tables is no snapshot (`SnapshotError`:
the frame is loaded from SQL).  A frame holding a string with a NUL in it is not
snapshotted.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable
from itertools import chain, filterfalse, repeat
from operator import itemgetter
from pathlib import Path

from analytics import frame_snapshot_writer
from analytics.frame import Frame, person_refs
from analytics.frame_snapshot_decode import _CHECK, _SECTIONS, _SIZE, _TYPECODES, _USABLE
from analytics.frame_snapshot_decode import MAGIC as MAGIC
from analytics.frame_snapshot_decode import MAX_EXPANSION as MAX_EXPANSION
from analytics.frame_snapshot_decode import SnapshotError as SnapshotError
from analytics.frame_snapshot_decode import decode as decode
from analytics.scope import Scope
from store import frame_snapshots, visibility

logger = logging.getLogger(__name__)

LIMITS = {"min_posts": 50_000, "max_bytes": 256 * 2**20}
"""`analytics.snapshot_min_posts` and `analytics.snapshot_max_bytes` (`configure`)."""
_ALLOWED: list[Callable[[], bool]] = []  # asked before each read and write (`configure`)


def configure(min_posts: int, max_bytes: int, allowed: Callable[[], bool] | None = None) -> None:
    """Snapshot the frames of at least `min_posts` posts, keeping at most `max_bytes` of
    them in the store (0: none kept and none read); `allowed`: whether snapshots are used
    for the current caller (the web UI's `STATS_FIGURE_CACHE`)."""
    LIMITS["min_posts"], LIMITS["max_bytes"] = min_posts, max_bytes
    _ALLOWED[:] = [allowed] if allowed else []


def _used() -> bool:
    return LIMITS["max_bytes"] > 0 and all(allowed() for allowed in _ALLOWED)


def scope_key(conn: sqlite3.Connection, cache_key: tuple[object, ...]) -> str:
    """What a loaded frame depends on besides the state of the archive: the lists and the
    reader's access, as `cache_key` (`analytics.frame._cache_key`) names them, and which
    lists are private (a list made private changes what an anonymous reader's frame holds
    of the lists in the scope: the parents it may see)."""
    lists, private = cache_key[3], bool(cache_key[4])
    hidden = visibility.for_reader(conn, include_private=private).hidden_lists
    listed = ",".join(str(i) for i in lists) if isinstance(lists, tuple) else str(lists)
    return f"lists={listed};private={int(private)};hidden={','.join(sorted(hidden))}"


def state_of(cache_key: tuple[object, ...]) -> str:
    """The `store.frame_snapshots.state` a frame cached under `cache_key` was loaded in
    (`analytics.frame._cache_key`: path, change sequence, persons version, ...)."""
    return f"{cache_key[1]}:{cache_key[2]}"


def read(conn: sqlite3.Connection, scope: Scope, cache_key: tuple[object, ...]) -> Frame | None:
    """The frame of `scope` from its snapshot in the store, or None (none kept for this
    state, snapshots off, or what is kept is not a snapshot of it: logged, ignored)."""
    if not _used():
        return None
    key = scope_key(conn, cache_key)
    blob = frame_snapshots.get(conn, key, state_of(cache_key))
    if blob is None:
        return None
    try:
        found = decode(blob, key, scope)
    except SnapshotError as exc:
        logger.warning("frame snapshot of %s ignored: %s", scope.label, exc)
        return None
    # the persons' names as stored now: a writer may rename persons without a new state
    # (`store.identities.refresh_names`: stale names after a sync, new naming rules)
    found.persons = person_refs(conn, sorted(found.persons))
    return found


def keep(conn: sqlite3.Connection, frame: Frame, cache_key: tuple[object, ...]) -> bool:
    """Write the snapshot of `frame`, just loaded from the messages in the state of
    `cache_key`, when it holds `min_posts` posts or more (False: not kept); in a web
    request, after it, by the process's writer thread (`analytics.frame_snapshot_writer`:
    True then means handed to it)."""
    if len(frame.posts) < LIMITS["min_posts"] or not _used():
        return False
    path = str(cache_key[0])
    if not path:  # an in-memory store: nobody else to read it
        return False
    key, state, bound = scope_key(conn, cache_key), state_of(cache_key), LIMITS["max_bytes"]

    def write() -> bool:  # on no connection of the caller's: it may run in the writer thread
        blob = encode(frame, key)
        if blob is None:
            return False
        return frame_snapshots.put(Path(path), key, state, blob, bound)

    return frame_snapshot_writer.submit(write)


def encode(frame: Frame, key: str) -> bytes | None:
    """`frame` (as loaded, bots in it) as bytes, or None when it cannot be written (a string
    holding a NUL, two posts with one key, a number not a 64-bit integer, another
    platform's integer sizes)."""
    if not _USABLE:
        return None
    try:
        return _encode(frame, key)
    except (TypeError, OverflowError) as exc:  # array() refused a value
        logger.info("frame of %s not snapshotted: %s", frame.scope.label, exc)
        return None


def _encode(frame: Frame, key: str) -> bytes | None:
    posts = frame.posts
    keys = list(map(itemgetter(1), posts))
    thread_of, parents = list(map(itemgetter(3), posts)), list(map(itemgetter(4), posts))
    threads = list(frame.threads.values())
    roots = [t.root_key for t in threads]
    # the posts' keys first, in their order (no column), then the parents and roots not
    # among them; the frame's thread ids first (no column either), then the posts' others
    at: dict[str | None, int] = {None: 0}
    at.update(zip(keys, range(1, len(keys) + 1), strict=True))
    if len(at) != len(keys) + 1:
        return None  # two posts with one key
    strings = keys + list(dict.fromkeys(filterfalse(at.__contains__, chain(parents, roots))))
    at.update(zip(strings[len(keys) :], range(len(keys) + 1, len(strings) + 1), strict=True))
    thread_ids = list(frame.threads)
    thread_at = dict(zip(thread_ids, range(1, len(thread_ids) + 1), strict=True))
    thread_ids += dict.fromkeys(filterfalse(thread_at.__contains__, thread_of))
    thread_at.update(zip(thread_ids, range(1, len(thread_ids) + 1), strict=True))
    people, parent_people = list(map(itemgetter(5), posts)), list(map(itemgetter(6), posts))
    numbers = [
        n for n in dict.fromkeys(chain(people, parent_people, frame.persons)) if n is not None
    ]
    number_at: dict[int | None, int] = {None: 0}
    number_at.update(zip(numbers, range(1, len(numbers) + 1), strict=True))
    subjects = list(dict.fromkeys(t.subject for t in threads))
    subject_at = dict(zip(subjects, range(len(subjects)), strict=True))
    persons = list(frame.persons.values())
    tables = [
        _joined(strings),
        _joined(thread_ids),
        _joined(subjects),
        _joined(p.key for p in persons),
        _joined(p.name for p in persons),
    ]
    if None in tables:
        return None  # a string held a NUL (see `_joined`)
    posts_lists = list(map(id, map(itemgetter(7), posts)))  # one tuple a combination
    combos = list({id(c): c for c in map(itemgetter(7), posts)}.values())
    combo_at = {id(c): i for i, c in enumerate(combos)}
    strings_n, threads_n, numbers_n = len(strings) + 1, len(thread_ids) + 1, len(numbers) + 1
    columns = [
        _ints(map(itemgetter(0), posts)),
        _ints(map(itemgetter(2), posts)),
        _ints(map(thread_at.__getitem__, thread_of), threads_n),
        _ints(map(at.__getitem__, parents), strings_n),
        _ints(map(number_at.__getitem__, people), numbers_n),
        _ints(map(number_at.__getitem__, parent_people), numbers_n),
        _ints(map(combo_at.__getitem__, posts_lists), len(combos)),
        _ints(p.id for p in persons),
        _ints(map(subject_at.__getitem__, (t.subject for t in threads)), len(subjects)),
        _ints(map(at.__getitem__, roots), strings_n),
        _ints(numbers),
    ]
    sections = [
        *(_table(t, compress=i >= 2) for i, t in enumerate(tables) if t is not None),
        *((c.tobytes(), c.typecode, len(c)) for c in map(_little, columns)),
    ]
    header = {
        "key": key,
        "undated": frame.undated,
        "undated_by": sorted(frame.undated_by.items()),
        "list_names": sorted(frame.list_names.items()),
        "combos": [list(c) for c in combos],
        "counts": {"posts": len(posts), "threads": len(threads), "persons": len(persons)},
        "sections": [
            [name, typecode, len(data), size]
            for name, (data, typecode, size) in zip(_SECTIONS, sections, strict=True)
        ],
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    body = b"".join([_SIZE.pack(len(text)), text, *(data for data, *_ in sections)])
    return b"".join([MAGIC, _CHECK.pack(zlib.crc32(body)), body])


def _table(data: bytes, *, compress: bool) -> tuple[bytes, str, int]:
    """A table of strings as stored: identifiers as they are (little to win, and read
    quicker), text (subjects, names) compressed."""
    return (zlib.compress(data, 1), "z", len(data)) if compress else (data, "s", len(data))


def _joined(strings: Iterable[str]) -> bytes | None:
    """UTF-8 with a NUL before each string (an empty table is empty); None when a string
    holds a NUL itself and the table cannot be written."""
    listed = list(strings)
    text = "".join(chain.from_iterable(zip(repeat("\0"), listed)))
    if text.count("\0") != len(listed):
        return None
    return text.encode("utf-8", "surrogatepass")


def _ints(values: Iterable[int], below: int | None = None) -> array[int]:
    """`values` in the narrowest unsigned column that holds them (signed 64-bit if none);
    `below`: a bound known to be above every value (an index into a table), else found."""
    listed = list(values)
    if below is None:
        low, high = (min(listed), max(listed)) if listed else (0, 0)
    else:
        low, high = 0, below - 1
    for typecode, bound in _TYPECODES.items():
        if low >= 0 and high < bound:
            return array(typecode, listed)
    return array("q", listed)


def _little(column: array[int]) -> array[int]:
    if sys.byteorder != "little":
        column = array(column.typecode, column)
        column.byteswap()
    return column
