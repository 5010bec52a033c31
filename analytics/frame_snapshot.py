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
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable
from itertools import chain, filterfalse, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from analytics.frame import Frame, PersonRef, Post, PostColumns, ThreadRef, person_refs
from analytics.scope import Scope
from store import frame_snapshots, visibility

logger = logging.getLogger(__name__)

LIMITS = {"min_posts": 50_000, "max_bytes": 256 * 2**20}
"""`analytics.snapshot_min_posts` and `analytics.snapshot_max_bytes` (`configure`)."""
_ALLOWED: list[Callable[[], bool]] = []  # asked before each read and write (`configure`)

MAGIC = b"listarchive frame snapshot 2\n"
_SIZE = struct.Struct("<Q")
_CHECK = struct.Struct("<I")  # CRC-32 of what follows it
_TYPECODES = {"B": 2**8, "H": 2**16, "I": 2**32}  # unsigned, of the sizes below
_USABLE = [array(t).itemsize for t in ("B", "H", "I", "q")] == [1, 2, 4, 8]
MAX_EXPANSION = 64  # a section may hold at most this many times its compressed bytes
_NEW = tuple.__new__
_COLUMNS = ("ids", "dates", "threads", "parents", "people", "parent_people", "lists")
_SECTIONS = (
    *("strings", "thread_ids", "subjects", "person_keys", "person_names"),
    *(*_COLUMNS, "person_ids", "subject_of", "root_of", "numbers"),
)


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
    `cache_key`, when it holds `min_posts` posts or more (False: not kept)."""
    if len(frame.posts) < LIMITS["min_posts"] or not _used():
        return False
    path = str(cache_key[0])
    if not path:  # an in-memory store: nobody else to read it
        return False
    key = scope_key(conn, cache_key)
    blob = encode(frame, key)
    if blob is None:
        return False
    return frame_snapshots.put(Path(path), key, state_of(cache_key), blob, LIMITS["max_bytes"])


class SnapshotError(ValueError):
    """Not a snapshot of the frame asked for (corrupt, foreign, another key or format)."""


# what a blob that parses wrongly raises (RecursionError: a header nested past the JSON depth)
_BROKEN = (
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    OverflowError,
    RecursionError,
)


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


def decode(blob: bytes, key: str, scope: Scope) -> Frame:
    """The frame `blob` holds, seen through `scope`; SnapshotError when `blob` is not a
    snapshot made by `encode` for `key` (anything else found wrong in it raises too)."""
    try:
        return _decode(blob, key, scope)
    except SnapshotError:
        raise
    except (*_BROKEN, zlib.error, struct.error) as exc:
        raise SnapshotError(f"not a frame snapshot: {type(exc).__name__}: {exc}") from exc


def _decode(blob: bytes, key: str, scope: Scope) -> Frame:
    if not _USABLE or not blob.startswith(MAGIC):
        raise SnapshotError("not a frame snapshot (no magic line)")
    (check,) = _CHECK.unpack_from(blob, len(MAGIC))
    body = len(MAGIC) + _CHECK.size
    if zlib.crc32(memoryview(blob)[body:]) != check:
        raise SnapshotError("damaged (its checksum differs)")
    (length,) = _SIZE.unpack_from(blob, body)
    start = body + _SIZE.size
    header = json.loads(blob[start : start + length])
    if not isinstance(header, dict) or header.get("key") != key:
        raise SnapshotError("a snapshot of another frame")
    sections = _sections(memoryview(blob)[start + length :], header["sections"])
    counts = header["counts"]
    posts_n, threads_n, persons_n = (int(counts[n]) for n in ("posts", "threads", "persons"))
    table: list[Any] = [None, *_strings(sections["strings"])]
    thread_ids: list[Any] = [None, *_strings(sections["thread_ids"])]
    subjects = _strings(sections["subjects"])
    number_column = _column(sections["numbers"])
    numbers: list[int | None] = [None, *number_column]
    combos = [tuple(int(i) for i in c) for c in header["combos"]]
    ids, dates, thread_of, parents, people, parent_people, lists = (
        _column(sections[name], posts_n) for name in _COLUMNS
    )
    if 0 in thread_of or 0 in people:  # index 0 is None: every post has both
        raise SnapshotError("a post without its thread or person")
    posts = list(
        map(
            _NEW,
            repeat(Post),
            zip(
                ids,
                islice(table, 1, posts_n + 1),  # the posts' keys come first
                dates,
                map(thread_ids.__getitem__, thread_of),
                map(table.__getitem__, parents),
                map(numbers.__getitem__, people),
                map(numbers.__getitem__, parent_people),
                map(combos.__getitem__, lists),
                strict=True,
            ),
        )
    )
    if threads_n >= len(thread_ids):
        raise SnapshotError("fewer thread ids than threads")
    refs = map(
        _NEW,
        repeat(ThreadRef),
        zip(
            islice(thread_ids, 1, threads_n + 1),  # the threads' ids come first
            map(subjects.__getitem__, _column(sections["subject_of"], threads_n)),
            map(table.__getitem__, _column(sections["root_of"], threads_n)),
            strict=True,
        ),
    )
    threads = dict(zip(islice(thread_ids, 1, threads_n + 1), refs, strict=True))
    persons = {
        pid: PersonRef(pid, pkey, name)
        for pid, pkey, name in zip(
            _column(sections["person_ids"], persons_n),
            _strings(sections["person_keys"], persons_n),
            _strings(sections["person_names"], persons_n),
            strict=True,
        )
    }
    if len(threads) != threads_n or len(persons) != persons_n:
        raise SnapshotError("a thread or person twice")
    return Frame(
        scope,
        posts,
        int(header["undated"]),
        persons,
        threads,
        {int(i): str(n) for i, n in header["list_names"]},
        undated_by={int(p): int(c) for p, c in header["undated_by"]},
        columns=_post_columns(dates, thread_of, people, parent_people, number_column, thread_ids),
    )


def _post_columns(
    dates: array[int],
    thread_of: array[int],
    people: array[int],
    parent_people: array[int],
    numbers: array[int],
    thread_ids: list[Any],
) -> PostColumns:
    """The posts' fields the facts read, as arrays of the snapshot's columns (the same
    values its `Post`s hold: `numbers` is the table `people` index from 1, 0 for None)."""
    number_of = np.empty(len(numbers) + 1, np.int64)
    number_of[0] = -1
    number_of[1:] = np.asarray(numbers, np.int64)
    return PostColumns(
        np.asarray(dates, np.int64),
        number_of[np.asarray(people, np.intp)],
        np.asarray(thread_of, np.int64) - 1,
        thread_ids[1:],
        number_of[np.asarray(parent_people, np.intp)],
    )


def _sections(
    data: memoryview, declared: list[list[Any]]
) -> dict[str, tuple[str, bytes | memoryview]]:
    """Each section's type and bytes (a table of strings decompressed), checked against
    its declared sizes."""
    found: dict[str, tuple[str, bytes | memoryview]] = {}
    offset = 0
    for name, typecode, stored, size in declared:
        stored, size = int(stored), int(size)
        if stored < 0 or offset + stored > len(data):
            raise SnapshotError(f"section {name!r} past the end")
        part = data[offset : offset + stored]
        offset += stored
        raw: bytes | memoryview
        if typecode == "s" and size == stored:
            raw = part  # read in place, not copied
        elif typecode == "z":
            if size > MAX_EXPANSION * max(stored, 1):
                raise SnapshotError(f"section {name!r}: {size} bytes declared in {stored}")
            unpacker = zlib.decompressobj()
            raw = unpacker.decompress(part, size)
            if len(raw) != size or unpacker.unconsumed_tail or not unpacker.eof:
                raise SnapshotError(f"section {name!r} is not its declared size")
        elif typecode in (*_TYPECODES, "q") and size * array(typecode).itemsize == stored:
            raw = part
        else:
            raise SnapshotError(f"section {name!r}: {typecode!r}, {size} values in {stored}")
        found[str(name)] = ("s" if typecode == "z" else str(typecode), raw)
    if offset != len(data):
        raise SnapshotError("bytes after the last section")
    return found


def _column(section: tuple[str, bytes | memoryview], count: int | None = None) -> array[int]:
    typecode, data = section
    if typecode not in (*_TYPECODES, "q"):
        raise SnapshotError("a table of strings where numbers belong")
    values = array(typecode)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    if count is not None and len(values) != count:
        raise SnapshotError(f"a column of {len(values)} values, {count} declared")
    return values


def _strings(section: tuple[str, bytes | memoryview], count: int | None = None) -> list[str]:
    typecode, data = section
    if typecode != "s" or bytes(data[:1]) not in (b"", b"\0"):
        raise SnapshotError("not a table of strings")
    found = str(data, "utf-8", "surrogatepass").split("\0")[1:] if len(data) else []
    if count is not None and len(found) != count:
        raise SnapshotError(f"a table of {len(found)} strings, {count} declared")
    return found
