"""network: who answers whom, self-replies, pairs, the people who hold discussions together
(tests/analytics/scenario.py: replies #2 Bob->Alice, #3 Alice->Bob, #6 Bob->Bob, #7
Alice->Bob, #9 Carol->Bob, #10 Alice->Carol)."""

from __future__ import annotations

from datetime import date

from analytics import network
from tests.analytics.framekit import build
from tests.analytics.scenario import scenario


def test_edges_and_totals() -> None:
    found = network.network(scenario())
    assert (found.reply_posts, found.self_replies, found.edges_total, found.people) == (6, 1, 4, 3)
    assert [(e.source_name, e.target_name, e.replies) for e in found.edges] == [
        ("Alice", "Bob", 2),
        ("Alice", "Carol", 1),  # ties: by the replier's name, then the replied-to's
        ("Bob", "Alice", 1),
        ("Carol", "Bob", 1),
    ]
    assert found.edges[0].source == "k-alice" and found.edges[0].target == "k-bob"


def test_pairs_count_both_directions() -> None:
    pairs = network.network(scenario()).pairs
    assert [(p.a_name, p.b_name, p.a_to_b, p.b_to_a, p.replies) for p in pairs] == [
        ("Alice", "Bob", 2, 1, 3),
        ("Alice", "Carol", 1, 0, 1),
        ("Bob", "Carol", 0, 1, 1),
    ]


def test_connectors() -> None:
    rows = network.connectors(scenario())
    table = [
        (
            c.name,
            c.replies_given,
            c.replies_received,
            c.replied_to,
            c.replied_by,
            c.counterparts,
            c.bridging_threads,
        )
        for c in rows
    ]
    # everyone on an edge has 2 counterparts; Alice replied to Bob (#3) and Carol (#10) in T1;
    # then Bob (4 replies given and received) before Carol (2)
    assert table == [
        ("Alice", 3, 1, 2, 1, 2, 1),
        ("Bob", 1, 3, 1, 2, 2, 0),
        ("Carol", 1, 1, 1, 1, 2, 0),
    ]
    assert [c.name for c in network.connectors(scenario(), limit=1)] == ["Alice"]


def test_window_counts_replies_to_older_posts() -> None:
    found = network.network(scenario(start=date(2020, 2, 1), end=date(2020, 3, 31)))
    # #6 (self), #7 Alice->Bob, #9 Carol->Bob (its parent #2 is from January), #10 Alice->Carol
    assert (found.reply_posts, found.self_replies, found.edges_total) == (4, 1, 3)


def test_limit_and_empty() -> None:
    assert len(network.network(scenario(), limit=1).edges) == 1
    empty = network.network(build([("2020-01-01T00:00", "T", "Solo", None)]))
    assert (empty.reply_posts, empty.edges, empty.connectors, empty.people) == (0, (), (), 0)
