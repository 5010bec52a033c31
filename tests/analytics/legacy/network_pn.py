"""The reply network as it was at 3917c4e (issue 14 task PN: the reply counts and the
bridging threads on the facts' columns, but each post's replied-to person read from the
`Post`s, and the rankings counted with Counters and sets over every edge): the reference
task DB3's `analytics.network` (every count on the edge arrays, no `Post` made) is compared
with (tests/analytics/test_network_columns.py).  Kept verbatim apart from its docstring and
imports; not used by the application."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from itertools import chain
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from analytics.facts import bounds, person_order
from analytics.frame import Frame
from analytics.network import Connector, Edge, Network, Pair

K = TypeVar("K")


def reply_counts(frame: Frame) -> tuple[Counter[tuple[int, int]], int, int]:
    """(replier, replied-to) -> replies inside the window, in the order the pairs first
    occur; plus reply posts and self-replies.  Counted on the facts' columns."""
    found, low, high = bounds(frame)
    cols = found.columns
    target = _targets(found.parents[low:high])
    source = cols.person_ids[cols.person[low:high]]
    known = target >= 0
    to_other = known & (target != source)
    replies, selfs = int(known.sum()), int((known & ~to_other).sum())
    source, target = source[to_other], target[to_other]
    edges: Counter[tuple[int, int]] = Counter()
    if not len(target):
        return edges, replies, selfs
    targets, rank = np.unique(target, return_inverse=True)
    codes = cols.person[low:high][to_other].astype(np.int64)
    _, first, counts = np.unique(codes * len(targets) + rank, return_index=True, return_counts=True)
    order = np.argsort(first)  # the pairs in the order they first occur
    at = first[order]
    pairs = zip(source[at].tolist(), target[at].tolist(), strict=True)
    edges.update(dict(zip(pairs, counts[order].tolist(), strict=True)))
    return edges, replies, selfs


def _targets(parents: list[int | None]) -> NDArray[np.int64]:
    """The replied-to person of each post, -1 for none."""
    return np.fromiter((-1 if t is None else t for t in parents), np.int64, len(parents))


def _top(keys: dict[K, tuple[Any, ...]], limit: int | None) -> list[K]:
    """The `limit` items with the smallest keys, in order (all of them without a limit)."""
    if limit is None:
        return sorted(keys, key=keys.__getitem__)
    return heapq.nsmallest(limit, keys, key=keys.__getitem__)


def connectors(
    frame: Frame,
    limit: int | None = 20,
    edges: Counter[tuple[int, int]] | None = None,
    orders: dict[int, tuple[str, str]] | None = None,
) -> list[Connector]:
    """Persons ranked by distinct counterparts (replied to or replied by), then by bridging
    threads, then by replies given and received; ties by name, then key.  `edges`: the
    `reply_counts` of the frame when the caller has them (`orders`: their `_orders`)."""
    if edges is None:
        edges = reply_counts(frame)[0]
    if orders is None:
        orders = _orders(frame, edges)
    given: Counter[int] = Counter()
    received: Counter[int] = Counter()
    to: dict[int, set[int]] = defaultdict(set)
    by: dict[int, set[int]] = defaultdict(set)
    for (source, target), n in edges.items():
        given[source] += n
        received[target] += n
        to[source].add(target)
        by[target].add(source)
    bridging = _bridging_threads(frame)
    counterparts = {p: len(to[p] | by[p]) for p in set(given) | set(received)}
    keys = {
        p: (-n, -bridging[p], -(given[p] + received[p]), *orders[p])
        for p, n in counterparts.items()
    }
    return [
        Connector(
            frame.person(p).key,
            frame.person(p).name,
            given[p],
            received[p],
            len(to[p]),
            len(by[p]),
            counterparts[p],
            bridging[p],
        )
        for p in _top(keys, limit)
    ]


def _bridging_threads(frame: Frame) -> Counter[int]:
    """Per person: threads in which, inside the window, they replied to >= 2 other people.

    Counted on the facts' columns: each reply to someone else as one int64 (the replier's
    code, the thread's code, the replied-to person's rank among them), the distinct ones by
    `np.unique`, then the (replier, thread) pairs seen with two or more (0.2 s at 300k as a
    set of tuples)."""
    found, low, high = bounds(frame)
    cols = found.columns
    parents = found.parents[low:high]
    target = _targets(parents)
    person = cols.person[low:high].astype(np.int64)
    replies = (target >= 0) & (target != cols.person_ids[person])
    person, thread, target = person[replies], cols.thread[low:high][replies], target[replies]
    if not len(target):
        return Counter()
    targets, rank = np.unique(target, return_inverse=True)
    per_thread, per_person = len(targets), len(targets) * max(cols.threads, 1)
    if per_person * max(len(cols.person_ids), 1) >= 2**62:  # too many to pack: as before
        return _bridging_pairs(frame)
    packed = np.unique(person * per_person + thread.astype(np.int64) * per_thread + rank)
    pairs, answered = np.unique(packed // per_thread, return_counts=True)
    bridging = pairs[answered >= 2] // max(cols.threads, 1)
    codes, counts = np.unique(bridging, return_counts=True)
    ids = cols.person_ids[codes].tolist()
    return Counter(dict(zip(ids, counts.tolist(), strict=True)))


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
    edges = reply_counts(frame)[0] if edges is None else edges
    order = _orders(frame, edges) if orders is None else orders
    keys = {e: (-n, order[e[0]], order[e[1]]) for e, n in edges.items()}
    return [Edge(*_name(frame, s), *_name(frame, t), edges[(s, t)]) for s, t in _top(keys, limit)]


def pair_list(
    frame: Frame,
    limit: int | None = 50,
    edges: Counter[tuple[int, int]] | None = None,
    orders: dict[int, tuple[str, str]] | None = None,
) -> list[Pair]:
    """Pairs by replies both ways, then by the smaller direction; ties by keys."""
    edges = reply_counts(frame)[0] if edges is None else edges
    orders = _orders(frame, edges) if orders is None else orders
    key_of = {pid: ref[1] for pid, ref in orders.items()}
    counts: dict[tuple[int, int], list[int]] = {}
    for (source, target), n in edges.items():
        a, b = (source, target) if key_of[source] <= key_of[target] else (target, source)
        counts.setdefault((a, b), [0, 0])[0 if source == a else 1] += n
    keys = {
        (a, b): (-ab - ba, -min(ab, ba), key_of[a], key_of[b])
        for (a, b), (ab, ba) in counts.items()
    }
    pairs = []
    for a, b in _top(keys, limit):
        ab, ba = counts[(a, b)]
        pairs.append(Pair(*_name(frame, a), *_name(frame, b), ab, ba, ab + ba))
    return pairs


def network(frame: Frame, limit: int | None = 50) -> Network:
    edges, replies, selfs = reply_counts(frame)
    orders = _orders(frame, edges)  # every person on an edge, once
    return Network(
        reply_posts=replies,
        self_replies=selfs,
        edges_total=len(edges),
        people=len(orders),
        edges=tuple(edge_list(frame, limit, edges, orders)),
        pairs=tuple(pair_list(frame, limit, edges, orders)),
        connectors=tuple(connectors(frame, limit, edges, orders)),
    )
