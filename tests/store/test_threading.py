from __future__ import annotations

from store.threading import Node, build_threads, is_reply_subject


def node(
    row: int,
    msgid: str,
    refs: tuple[str, ...] = (),
    date: int = 0,
    subject: str = "s",
    reply: bool = False,
) -> Node:
    return Node(row, f"k{row}", msgid, refs, date, subject, reply)


def test_simple_chain_depths_and_order() -> None:
    nodes = [
        node(1, "a", date=1),
        node(2, "b", ("a",), date=2),
        node(3, "c", ("a", "b"), date=3),
        node(4, "d", ("a",), date=4),
    ]
    (tree,) = build_threads(nodes, {})
    p = tree.placements
    assert (p[1].depth, p[2].depth, p[3].depth, p[4].depth) == (0, 1, 2, 1)
    assert (p[2].parent_key, p[3].parent_key, p[4].parent_key) == ("k1", "k2", "k1")
    assert sorted(p, key=lambda r: p[r].position) == [1, 2, 3, 4]
    assert tree.root_key == "k1"


def test_ghost_parent_then_late_parent_same_thread_id() -> None:
    orphans = [node(2, "b", ("a",), date=2), node(3, "c", ("a",), date=3)]
    (before,) = build_threads(orphans, {})
    assert before.root_key is None
    assert {pl.depth for pl in before.placements.values()} == {0}
    (after,) = build_threads([*orphans, node(1, "a", date=1)], {})
    assert after.thread_id == before.thread_id
    assert after.placements[2].parent_key == "k1"
    assert after.placements[2].depth == 1


def test_result_independent_of_arrival_order() -> None:
    nodes = [
        node(1, "a", date=10),
        node(2, "b", ("a",), date=20),
        node(3, "c", ("a", "b"), date=30),
        node(4, "x", date=5),
        node(5, "y", ("x",), date=6),
    ]
    forward = build_threads(nodes, {})
    backward = build_threads(list(reversed(nodes)), {})
    assert forward == backward
    assert len(forward) == 2


def test_same_subject_different_references_stay_apart() -> None:
    nodes = [
        node(1, "a", date=1, subject="release"),
        node(2, "b", ("a",), date=2, subject="release", reply=True),
        node(3, "c", date=3, subject="release"),
        node(4, "d", ("c",), date=4, subject="release", reply=True),
    ]
    assert len(build_threads(nodes, {})) == 2


def test_subject_parent_for_reference_less_reply() -> None:
    nodes = [node(1, "a", date=1, subject="help"), node(2, "b", date=2, subject="help", reply=True)]
    (tree,) = build_threads(nodes, {"b": "a"})
    assert tree.placements[2].parent_key == "k1"


def test_reference_loop_does_not_hang() -> None:
    nodes = [node(1, "a", ("b",), date=1), node(2, "b", ("a",), date=2)]
    trees = build_threads(nodes, {})
    assert sum(len(t.placements) for t in trees) == 2


def test_duplicate_message_id_different_content_both_kept() -> None:
    nodes = [node(1, "same", date=1), node(2, "same", date=2)]
    (tree,) = build_threads(nodes, {})
    assert tree.placements[2].parent_key == "k1"
    assert len(tree.placements) == 2


def test_reply_subject_detection() -> None:
    assert is_reply_subject("Re: [Twisted-Python] foo")
    assert is_reply_subject("[Twisted-Python] RE: foo")
    assert is_reply_subject("AW: foo")
    assert not is_reply_subject("Reactor question")


def test_a_reply_to_a_missing_message_is_not_a_reply_to_its_grandparent() -> None:
    """S7 of twisted-python 2018-September: its In-Reply-To names a message the archive lacks,
    whose parent is held: threaded under the held ancestor, but marked indirect."""
    nodes = [
        Node(1, "a", "root@x", (), 100, "t", False),
        Node(2, "b", "reply@x", ("root@x", "missing@x"), 300, "t", True),
        Node(3, "c", "direct@x", ("root@x",), 200, "t", True),
    ]
    (tree,) = build_threads(nodes, {})
    assert tree.placements[2].parent_key == "a" and tree.placements[2].direct is False
    assert tree.placements[3].parent_key == "a" and tree.placements[3].direct is True
    assert tree.placements[1].parent_key is None
