"""Who answers whom: the reply network of the window, and the people who hold discussions
together.

An edge `a -> b` counts the posts of `a` inside the window whose parent message (In-Reply-To /
References, as threaded) was written by `b`, where `a != b`.  The parent may be older than the
window or on a list outside the scope: who was answered is still known.  Self-replies (a
follow-up to one's own post) are counted apart and are not edges.  Definitions:
docs/analytics.md.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from analytics.facts import bounds, person_order
from analytics.facts_columns import distinct_ranks
from analytics.frame import Frame

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # key of the person replying
    source_name: str
    target: str  # key of the person replied to
    target_name: str
    replies: int


@dataclass(frozen=True, slots=True)
class Pair:
    """Two people who answer each other, in either direction (a before b by key)."""

    a: str
    a_name: str
    b: str
    b_name: str
    a_to_b: int
    b_to_a: int
    replies: int


@dataclass(frozen=True, slots=True)
class Connector:
    person: str
    name: str
    replies_given: int
    replies_received: int
    replied_to: int  # distinct persons this person replied to
    replied_by: int  # distinct persons who replied to this person
    counterparts: int  # distinct persons in either direction
    bridging_threads: int  # threads where this person replied to >= 2 different people


@dataclass(frozen=True, slots=True)
class Network:
    reply_posts: int  # posts inside the window with a known parent author, self-replies included
    self_replies: int
    edges_total: int  # distinct (replier, replied-to) pairs
    people: int  # persons on at least one edge
    edges: tuple[Edge, ...]  # the heaviest edges
    pairs: tuple[Pair, ...]  # the most active pairs
    connectors: tuple[Connector, ...]  # the people who hold discussions together


class _Edges(NamedTuple):
    """The window's edges as arrays, in the order the pairs first occur (the rankings' last
    tie-break, as `reply_counts`' Counter holds them)."""

    sources: NDArray[np.int64]  # person ids
    targets: NDArray[np.int64]
    counts: NDArray[np.int64]
    replies: int
    selfs: int


def _edge_arrays(frame: Frame) -> _Edges:
    """`reply_counts` as arrays, on the facts' columns: the replied-to person of each post from
    the facts' `parent_persons` (a frame read from its snapshot has them as an array: its
    `Post`s are not made)."""
    found, low, high = bounds(frame)
    cols = found.columns
    target = found.parent_persons[low:high]
    source = cols.person_ids[cols.person[low:high]]
    known = target >= 0
    to_other = known & (target != source)
    replies, selfs = int(known.sum()), int((known & ~to_other).sum())
    source, target = source[to_other], target[to_other]
    if not len(target):
        empty = np.zeros(0, np.int64)
        return _Edges(empty, empty, empty, replies, selfs)
    targets, rank = distinct_ranks(target)
    codes = cols.person[low:high][to_other].astype(np.int64)
    _, first, counts = np.unique(codes * len(targets) + rank, return_index=True, return_counts=True)
    order = np.argsort(first)  # the pairs in the order they first occur
    at = first[order]
    return _Edges(source[at], target[at], counts[order].astype(np.int64), replies, selfs)


def reply_counts(frame: Frame) -> tuple[Counter[tuple[int, int]], int, int]:
    """(replier, replied-to) -> replies inside the window, in the order the pairs first
    occur; plus reply posts and self-replies.  Counted on the facts' columns."""
    found = _edge_arrays(frame)
    pairs = zip(found.sources.tolist(), found.targets.tolist(), strict=True)
    edges: Counter[tuple[int, int]] = Counter(dict(zip(pairs, found.counts.tolist(), strict=True)))
    return edges, found.replies, found.selfs


def _as_arrays(edges: Counter[tuple[int, int]]) -> _Edges:
    """A caller's `reply_counts` (in its order) as arrays."""
    n = len(edges)
    sources = np.fromiter((s for s, _ in edges), np.int64, n)
    targets = np.fromiter((t for _, t in edges), np.int64, n)
    return _Edges(sources, targets, np.fromiter(edges.values(), np.int64, n), 0, 0)


def _top(keys: dict[K, tuple[Any, ...]], limit: int | None) -> list[K]:
    """The `limit` items with the smallest keys, in order (all of them without a limit)."""
    if limit is None:
        return sorted(keys, key=keys.__getitem__)
    return heapq.nsmallest(limit, keys, key=keys.__getitem__)


def _candidates(numbers: list[NDArray[np.int64]], limit: int | None) -> NDArray[np.bool_]:
    """Which items may be among the `limit` first by a key starting with `numbers` (arrays
    to sort ascending, the first one first): those whose numbers are at most, as a tuple,
    the `limit`-th smallest numbers (every item without a limit, or when there are no more).
    The whole key's first `limit` items are among them."""
    size = len(numbers[0])
    if limit is None or limit >= size:
        return np.ones(size, np.bool_)
    if limit <= 0:
        return np.zeros(size, np.bool_)
    at = np.lexsort(numbers[::-1])[limit - 1]  # lexsort's last array is its first key
    chosen = np.ones(size, np.bool_)  # (v1, ..., vk) <= (t1, ..., tk), from vk back to v1
    for values in reversed(numbers):
        bound = values[at]
        chosen = (values < bound) | ((values == bound) & chosen)
    return chosen


def _persons(edges: _Edges) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    """The persons on an edge (ids ascending) and each edge's source and target among them."""
    ids, inverse = distinct_ranks(np.concatenate([edges.sources, edges.targets]))
    n = len(edges.sources)
    return ids, inverse[:n], inverse[n:]


def _first_seen(values: NDArray[np.int64]) -> list[int]:
    """The distinct `values` in the order they first occur."""
    _, first = np.unique(values, return_index=True)
    found: list[int] = values[np.sort(first)].tolist()
    return found


def connectors(
    frame: Frame,
    limit: int | None = 20,
    edges: Counter[tuple[int, int]] | None = None,
    orders: dict[int, tuple[str, str]] | None = None,
) -> list[Connector]:
    """Persons ranked by distinct counterparts (replied to or replied by), then by bridging
    threads, then by replies given and received; ties by name, then key.  `edges`: the
    `reply_counts` of the frame when the caller has them (`orders`: their `_orders`)."""
    found = _edge_arrays(frame) if edges is None else _as_arrays(edges)
    return _connectors(frame, found, limit, orders)


def _connectors(
    frame: Frame, edges: _Edges, limit: int | None, orders: dict[int, tuple[str, str]] | None
) -> list[Connector]:
    """`connectors` over the edge arrays: the counts per person by `np.bincount` (the edges
    are distinct pairs: a person's edges out are the persons they replied to), counterparts
    as those out and in less the reciprocated ones; the order of the candidates in ties of the
    whole key (unnamed persons) is the previous code's, a set of the givers and receivers."""
    ids, source, target = _persons(edges)
    size = len(ids)
    given = np.bincount(source, edges.counts, size).astype(np.int64)
    received = np.bincount(target, edges.counts, size).astype(np.int64)
    to, by = np.bincount(source, minlength=size), np.bincount(target, minlength=size)
    width = np.int64(max(size, 1))
    codes = source.astype(np.int64) * width + target
    mutual = np.isin(codes, target.astype(np.int64) * width + source)
    counterparts = to + by - np.bincount(source[mutual], minlength=size)
    bridging_of = _bridging_threads(frame)
    bridging = np.array([bridging_of[p] for p in ids.tolist()], np.int64)
    chosen = _candidates([-counterparts, -bridging, -(given + received)], limit)
    code_of = dict(zip(ids.tolist(), range(size), strict=True))
    # the previous code ranked `set(given) | set(received)`: the same set, made the same way
    members = set(_first_seen(edges.sources)) | set(_first_seen(edges.targets))
    picked = [p for p in members if chosen[code_of[p]]]
    if orders is None:
        orders = {p: person_order(frame, p) for p in picked}
    numbers = zip(
        counterparts.tolist(), bridging.tolist(), (given + received).tolist(), strict=True
    )
    totals = dict(zip(ids.tolist(), numbers, strict=True))
    keys = {p: (-totals[p][0], -totals[p][1], -totals[p][2], *orders[p]) for p in picked}
    rows = []
    for p in _top(keys, limit):
        ref, c = frame.person(p), code_of[p]
        rows.append(
            Connector(
                ref.key,
                ref.name,
                int(given[c]),
                int(received[c]),
                int(to[c]),
                int(by[c]),
                int(counterparts[c]),
                int(bridging[c]),
            )
        )
    return rows


def _bridging_threads(frame: Frame) -> Counter[int]:
    """Per person: threads in which, inside the window, they replied to >= 2 other people.

    Counted on the facts' columns: each reply to someone else as one int64 (the replier's
    code, the thread's code, the replied-to person's rank among them), the distinct ones by
    `np.unique`, then the (replier, thread) pairs seen with two or more (0.2 s at 300k as a
    set of tuples)."""
    found, low, high = bounds(frame)
    cols = found.columns
    target = found.parent_persons[low:high]
    person = cols.person[low:high].astype(np.int64)
    replies = (target >= 0) & (target != cols.person_ids[person])
    person, thread, target = person[replies], cols.thread[low:high][replies], target[replies]
    if not len(target):
        return Counter()
    targets, rank = distinct_ranks(target)
    per_thread, per_person = len(targets), len(targets) * max(cols.threads, 1)
    if per_person * max(len(cols.person_ids), 1) >= 2**62:  # too many to pack: as before
        return _bridging_pairs(frame)
    packed = np.sort(person * per_person + thread.astype(np.int64) * per_thread + rank)
    packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))]  # distinct, sorted
    pairs, answered = _runs(packed // per_thread)
    codes, counts = _runs(pairs[answered >= 2] // max(cols.threads, 1))
    ids = cols.person_ids[codes].tolist()
    return Counter(dict(zip(ids, counts.tolist(), strict=True)))


def _runs(ordered: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct values of `ordered` (ascending) and how many times each occurs: what
    `np.unique(ordered, return_counts=True)` gives, without its sort (its hash-based
    distinct values took 0.36 s of the 1M network)."""
    if not len(ordered):
        return ordered, np.zeros(0, np.int64)
    heads = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return ordered[heads], np.diff(np.append(heads, len(ordered)))


def _bridging_pairs(frame: Frame) -> Counter[int]:
    """`_bridging_threads` as a set of (person, thread, replied-to) tuples."""
    found, low, high = bounds(frame)
    triples = {
        (person, thread, target)
        for person, thread, target in zip(
            found.persons[low:high], found.threads[low:high], found.parents[low:high], strict=True
        )
        if target is not None and target != person
    }
    answered = Counter((person, thread) for person, thread, _ in triples)
    return Counter(person for (person, _), n in answered.items() if n >= 2)


def _name(frame: Frame, pid: int) -> tuple[str, str]:
    ref = frame.person(pid)
    return ref.key, ref.name


def _orders(frame: Frame, edges: Counter[tuple[int, int]]) -> dict[int, tuple[str, str]]:
    """Every person on an edge and their tie-break (`person_order`), each once."""
    return {pid: person_order(frame, pid) for pid in set(chain.from_iterable(edges))}


def edge_list(
    frame: Frame,
    limit: int | None = 50,
    edges: Counter[tuple[int, int]] | None = None,
    orders: dict[int, tuple[str, str]] | None = None,
) -> list[Edge]:
    """The heaviest edges; ties by the replier's name, then the replied-to's."""
    found = _edge_arrays(frame) if edges is None else _as_arrays(edges)
    return _edge_list(frame, found, limit, orders)


def _edge_list(
    frame: Frame, edges: _Edges, limit: int | None, orders: dict[int, tuple[str, str]] | None
) -> list[Edge]:
    """`edge_list` over the edge arrays: the names compared for the candidates only."""
    chosen = np.flatnonzero(_candidates([-edges.counts], limit)).tolist()
    sources, targets = edges.sources.tolist(), edges.targets.tolist()
    counts = edges.counts.tolist()
    if orders is None:
        needed = {sources[i] for i in chosen} | {targets[i] for i in chosen}
        orders = {p: person_order(frame, p) for p in needed}
    keys = {i: (-counts[i], orders[sources[i]], orders[targets[i]]) for i in chosen}
    return [
        Edge(*_name(frame, sources[i]), *_name(frame, targets[i]), counts[i])
        for i in _top(keys, limit)
    ]


def pair_list(
    frame: Frame,
    limit: int | None = 50,
    edges: Counter[tuple[int, int]] | None = None,
    orders: dict[int, tuple[str, str]] | None = None,
) -> list[Pair]:
    """Pairs by replies both ways, then by the smaller direction; ties by keys."""
    found = _edge_arrays(frame) if edges is None else _as_arrays(edges)
    return _pair_list(frame, found, limit)


def _pair_list(frame: Frame, edges: _Edges, limit: int | None) -> list[Pair]:
    """`pair_list` over the edge arrays: each edge's pair (a before b by key) by the persons'
    ranks by key, the two directions summed by `np.bincount`; the pairs in the order their
    first edge occurs (ties of the whole key: persons of equal keys)."""
    ids, source, target = _persons(edges)
    if not len(ids):
        return []
    keys_of = [frame.person(p).key for p in ids.tolist()]
    distinct = sorted(set(keys_of))  # equal keys (unnamed persons) of equal rank: a pair
    rank = np.array([bisect_left(distinct, k) for k in keys_of], np.int64)
    forward = rank[source] <= rank[target]  # `key(source) <= key(target)`, as before
    a, b = np.where(forward, source, target), np.where(forward, target, source)
    pairs, first, inverse = np.unique(
        a.astype(np.int64) * len(ids) + b, return_index=True, return_inverse=True
    )
    ab = np.bincount(inverse, np.where(forward, edges.counts, 0), len(pairs)).astype(np.int64)
    ba = np.bincount(inverse, np.where(forward, 0, edges.counts), len(pairs)).astype(np.int64)
    order = np.argsort(first, kind="stable")  # the pairs in the order they first occur
    chosen = _candidates([-(ab + ba), -np.minimum(ab, ba)], limit)[order]
    picked = order[chosen].tolist()
    first_a, first_b = a[first].tolist(), b[first].tolist()
    both, less = (ab + ba).tolist(), np.minimum(ab, ba).tolist()
    keys = {i: (-both[i], -less[i], keys_of[first_a[i]], keys_of[first_b[i]]) for i in picked}
    found = []
    for i in _top(keys, limit):
        pa, pb = int(ids[first_a[i]]), int(ids[first_b[i]])
        found.append(Pair(*_name(frame, pa), *_name(frame, pb), int(ab[i]), int(ba[i]), both[i]))
    return found


def network(frame: Frame, limit: int | None = 50) -> Network:
    """Every count from one pass over the window's columns; no `Post` is made."""
    edges = _edge_arrays(frame)
    ids = np.sort(np.concatenate([edges.sources, edges.targets]))
    ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))] if len(ids) else ids
    return Network(
        reply_posts=edges.replies,
        self_replies=edges.selfs,
        edges_total=len(edges.sources),
        people=len(ids),
        edges=tuple(_edge_list(frame, edges, limit, None)),
        pairs=tuple(_pair_list(frame, edges, limit)),
        connectors=tuple(_connectors(frame, edges, limit, None)),
    )
