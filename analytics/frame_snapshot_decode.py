"""Reading a frame snapshot (`analytics.frame_snapshot`'s format; issue 14, tasks FS and LP).

`decode` checks a blob against its key and declared sizes and makes its `Frame`: persons,
threads and the posts' columns at once (`Frame.columns`, what the facts read), the `Post`
tuples when a metric first reads them (`analytics.frame_posts.PostSource`).  Every index of
the posts' columns is checked here, so that a snapshot pointing outside its tables is no
snapshot (`SnapshotError`) before any post is made, as when they were all made at once.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from itertools import islice, repeat
from typing import Any

import numpy as np

from analytics.frame import Frame, PersonRef, Post, PostColumns, ThreadRef
from analytics.frame_posts import PostSource
from analytics.scope import Scope

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
    columns = (thread_of, parents, people, parent_people, lists)
    tables = (thread_ids, table, numbers, numbers, combos)
    if len(table) < posts_n + 1 or not all(map(_within, columns, map(len, tables))):
        raise SnapshotError("a post's column points outside its table")

    def make() -> list[Post]:  # the posts' tuples, when a metric first reads them
        return list(
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
        PostSource(make=make, count=posts_n),
        int(header["undated"]),
        persons,
        threads,
        {int(i): str(n) for i, n in header["list_names"]},
        undated_by={int(p): int(c) for p, c in header["undated_by"]},
        columns=_post_columns(dates, thread_of, people, parent_people, number_column, thread_ids),
    )


def _within(column: array[int], size: int) -> bool:
    """Whether every value of `column` indexes a list of `size` (as Python indexes it: from
    the end when negative, as a signed column may hold)."""
    if not len(column):
        return True
    values = np.asarray(column)
    return bool(int(values.max()) < size and int(values.min()) >= -size)


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
