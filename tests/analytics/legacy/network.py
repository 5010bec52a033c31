"""The reply network as it was before issue 14's task PN (commit 7a3c40a: the bridging
threads as a set of (person, thread, replied-to) tuples): the reference `analytics.network`
is compared with (tests/analytics/test_network_reference.py).  Kept verbatim apart from its
docstring and imports; not used by the application."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from typing import Any, TypeVar

from analytics.facts import bounds, person_order
from analytics.frame import Frame
from analytics.network import Connector, Edge, Network, Pair

K = TypeVar("K")


def reply_counts(frame: Frame) -> tuple[Counter[tuple[int, int]], int, int]:
    """(replier, replied-to) -> replies inside the window; plus reply posts and self-replies."""
    found, low, high = bounds(frame)
    pairs = Counter(zip(found.persons[low:high], found.parents[low:high], strict=True))
    edges: Counter[tuple[int, int]] = Counter()
    replies = selfs = 0
    for (source, target), n in pairs.items():
        if target is None:
            continue
        replies += n
        if target == source:
            selfs += n
        else:
            edges[(source, target)] = n
    return edges, replies, selfs


def _top(keys: dict[K, tuple[Any, ...]], limit: int | None) -> list[K]:
    """The `limit` items with the smallest keys, in order (all of them without a limit)."""
    if limit is None:
        return sorted(keys, key=keys.__getitem__)
    return heapq.nsmallest(limit, keys, key=keys.__getitem__)


def connectors(
    frame: Frame, limit: int | None = 20, edges: Counter[tuple[int, int]] | None = None
) -> list[Connector]:
    """Persons ranked by distinct counterparts (replied to or replied by), then by bridging
    threads, then by replies given and received; ties by name, then key.  `edges`: the
    `reply_counts` of the frame when the caller has them."""
    if edges is None:
        edges = reply_counts(frame)[0]
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
        p: (-n, -bridging[p], -(given[p] + received[p]), *person_order(frame, p))
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
    """Per person: threads in which, inside the window, they replied to >= 2 other people."""
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
    return {pid: person_order(frame, pid) for edge in edges for pid in edge}


def edge_list(
    frame: Frame, limit: int | None = 50, edges: Counter[tuple[int, int]] | None = None
) -> list[Edge]:
    """The heaviest edges; ties by the replier's name, then the replied-to's."""
    edges = reply_counts(frame)[0] if edges is None else edges
    order = _orders(frame, edges)
    keys = {e: (-n, order[e[0]], order[e[1]]) for e, n in edges.items()}
    return [Edge(*_name(frame, s), *_name(frame, t), edges[(s, t)]) for s, t in _top(keys, limit)]


def pair_list(
    frame: Frame, limit: int | None = 50, edges: Counter[tuple[int, int]] | None = None
) -> list[Pair]:
    """Pairs by replies both ways, then by the smaller direction; ties by keys."""
    edges = reply_counts(frame)[0] if edges is None else edges
    key_of = {pid: ref[1] for pid, ref in _orders(frame, edges).items()}
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
    return Network(
        reply_posts=replies,
        self_replies=selfs,
        edges_total=len(edges),
        people=len({pid for edge in edges for pid in edge}),
        edges=tuple(edge_list(frame, limit, edges)),
        pairs=tuple(pair_list(frame, limit, edges)),
        connectors=tuple(connectors(frame, limit, edges)),
    )
