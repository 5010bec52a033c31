"""Threading: JWZ over References/In-Reply-To with ghost parents, applied incrementally.

`build_threads` is pure (nodes in, trees out).  `rethread` loads the messages that are not yet
threaded plus every thread they touch, rebuilds those threads and writes the differences, so a
late parent re-links its orphaned children and the result does not depend on arrival order.

Subject is used only for a reply that carries no reference at all (``Re: x`` with neither
References nor In-Reply-To, common in old pipermail traffic): it joins the earliest message with
the same normalised subject in the 60 days before it.  Two messages whose reference chains
differ are never merged on subject.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from store.models import thread_key
from store.thread_writes import write_nodes

T = TypeVar("T")
SUBJECT_WINDOW = 60 * 86400
_DIGIT = re.compile(r"\d")
_REPLY = re.compile(r"^\s*(\[[^\]]*\]\s*)?(re|aw|sv|antw|odp)\s*(\[\d+\])?\s*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Node:
    row: int
    key: str
    msgid: str
    refs: tuple[str, ...]
    date: int | None
    subject_norm: str
    is_reply: bool


@dataclass(slots=True)
class _Container:
    msgid: str
    nodes: list[Node] = field(default_factory=list)
    parent: _Container | None = None
    children: list[_Container] = field(default_factory=list)

    first: int | None = None
    """The earliest date in the subtree, once `sort_key` computed it (the tree is built)."""
    dated: bool = False

    def sort_key(self) -> tuple[int, str]:
        """(earliest date in the subtree or 0, own key): asked once the tree is linked, so
        each subtree's earliest date is computed once, not again for every ancestor."""
        first = self._first_date()
        key = self.nodes[0].key if self.nodes else self.msgid
        return (first if first is not None else 0, key)

    def _first_date(self) -> int | None:
        if not self.dated:
            dates = [n.date for n in self.nodes if n.date is not None]
            dates.extend(
                d for d in (child._first_date() for child in self.children) if d is not None
            )
            self.first = min(dates) if dates else None
            self.dated = True
        return self.first


@dataclass(frozen=True, slots=True)
class Placement:
    thread_id: str
    parent_key: str | None
    depth: int
    position: int
    direct: bool = True
    """False when the message it replies to is missing from the archive (a ghost in between):
    `parent_key` is then the nearest held ancestor, whose author was not the one answered."""


@dataclass(frozen=True, slots=True)
class Tree:
    thread_id: str
    root_msgid: str
    root_key: str | None
    msgids: tuple[str, ...]
    placements: dict[int, Placement]
    subject: str
    first_date: int | None
    last_date: int | None


def is_reply_subject(subject: str) -> bool:
    return bool(_REPLY.match(subject))


def _order(node: Node) -> tuple[int, str]:
    return (node.date if node.date is not None else 0, node.key)


def _is_ancestor(candidate: _Container, of: _Container) -> bool:
    """True when `candidate` is `of` or one of its ancestors."""
    current: _Container | None = of
    while current is not None:
        if current is candidate:
            return True
        current = current.parent
    return False


def _set_parent(child: _Container, parent: _Container) -> None:
    if child.parent is parent or _is_ancestor(child, parent):
        return
    if child.parent is not None:
        child.parent.children.remove(child)
    child.parent = parent
    parent.children.append(child)


def build_threads(nodes: Sequence[Node], subject_parents: dict[str, str]) -> list[Tree]:
    """JWZ threading of `nodes`; `subject_parents` maps a reference-less reply to its parent."""
    containers: dict[str, _Container] = {}

    def get(msgid: str) -> _Container:
        found = containers.get(msgid)
        if found is None:
            found = containers[msgid] = _Container(msgid)
        return found

    for node in sorted(nodes, key=_order):
        own = get(node.msgid)
        own.nodes.append(node)
        previous: _Container | None = None
        for ref in node.refs:
            current = get(ref)
            if previous is not None and current.parent is None:
                _set_parent(current, previous)
            previous = current
        if previous is not None and previous is not own:
            _set_parent(own, previous)
    for msgid, parent_id in sorted(subject_parents.items()):
        orphan = containers.get(msgid)
        parent = containers.get(parent_id)
        if orphan is not None and parent is not None and orphan.parent is None:
            _set_parent(orphan, parent)

    trees = []
    for root in sorted(
        (c for c in containers.values() if c.parent is None), key=_Container.sort_key
    ):
        if not root.nodes and not root.children:
            continue
        trees.append(_layout(root))
    return trees


def _layout(root: _Container) -> Tree:
    thread_id = thread_key(root.msgid)
    placements: dict[int, Placement] = {}
    msgids: list[str] = []
    dates: list[int] = []
    position = 0
    base = 0 if root.nodes else -1
    stack: list[tuple[_Container, int, str | None, bool]] = [(root, base, None, True)]
    while stack:
        container, depth, parent_key, direct = stack.pop()
        msgids.append(container.msgid)
        nodes = sorted(container.nodes, key=_order)
        for index, node in enumerate(nodes):
            placements[node.row] = Placement(
                thread_id,
                parent_key if index == 0 else nodes[0].key,
                max(depth, 0) + (1 if index else 0),
                position,
                # another message reusing the Message-ID is placed under the first, not a reply
                direct if index == 0 else False,
            )
            position += 1
            if node.date is not None:
                dates.append(node.date)
        child_parent = nodes[0].key if nodes else parent_key
        for child in sorted(container.children, key=_Container.sort_key, reverse=True):
            stack.append((child, depth + 1, child_parent, bool(nodes)))
    first_nodes = sorted(root.nodes, key=_order)
    if first_nodes:
        subject_node = first_nodes[0]
    else:
        subject_node = min(
            (n for c in root.children for n in c.nodes), key=_order, default=None
        ) or Node(0, "", root.msgid, (), None, "", False)
    return Tree(
        thread_id=thread_id,
        root_msgid=root.msgid,
        root_key=first_nodes[0].key if first_nodes else None,
        msgids=tuple(msgids),
        placements=placements,
        subject=subject_node.subject_norm,
        first_date=min(dates) if dates else None,
        last_date=max(dates) if dates else None,
    )


# -- database side ---------------------------------------------------------------------------

_NODE_COLUMNS = "id, key, message_id_norm, refs, in_reply_to, date, subject_norm, subject"


def _node(row: tuple[int, str, str, str, str, int | None, str, str]) -> Node:
    refs: list[str] = json.loads(row[3]) if row[3] != "[]" else []
    if row[4] != "[]":  # most messages: no In-Reply-To beyond their References
        for ref in json.loads(row[4]):
            if ref not in refs:
                refs.append(ref)
    refs = [r for r in refs if r and r != row[2]]
    return Node(row[0], row[1], row[2], tuple(refs), row[5], row[6], is_reply_subject(row[7]))


def _chunks(values: Sequence[T], size: int = 900) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _threads_of(conn: sqlite3.Connection, msgids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(msgids))):
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0]
            for r in conn.execute(
                f"SELECT thread_id FROM msgnodes WHERE message_id_norm IN ({marks})", chunk
            )
        )
    return found


def _subject_parent(conn: sqlite3.Connection, node: Node) -> tuple[str, str | None] | None:
    """Earliest message with the same subject in the window before a reference-less reply."""
    if not node.is_reply or node.refs or node.date is None or len(node.subject_norm) < 4:
        return None
    row = conn.execute(
        "SELECT message_id_norm, thread_id FROM messages WHERE subject_norm = ? "
        "AND date BETWEEN ? AND ? AND id != ? AND message_id_norm != ? "
        "ORDER BY date, key LIMIT 1",
        (node.subject_norm, node.date - SUBJECT_WINDOW, node.date, node.row, node.msgid),
    ).fetchone()
    return (row[0], row[1]) if row else None


def rethread(conn: sqlite3.Connection, seq: int, limit: int = 10_000) -> int:
    """Thread up to `limit` unthreaded messages (oldest rows first) and rebuild the threads
    they touch; returns rows changed.  Call until it returns 0: the result does not depend on
    how the work is cut, and memory stays bounded whatever the archive's size."""
    new = [
        _node(r)
        for r in conn.execute(
            f"SELECT {_NODE_COLUMNS} FROM messages WHERE thread_id IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
    ]
    if not new:
        return 0
    affected = _threads_of(conn, [i for n in new for i in (n.msgid, *n.refs)])
    for node in new:
        if node.date is None or len(node.subject_norm) < 4:
            continue
        # reference-less replies that may now have an earlier original
        affected.update(
            r[0]
            for r in conn.execute(
                "SELECT thread_id FROM messages WHERE subject_norm = ? AND date BETWEEN ? AND ? "
                "AND refs = '[]' AND in_reply_to = '[]' AND thread_id IS NOT NULL",
                (node.subject_norm, node.date, node.date + SUBJECT_WINDOW),
            )
        )
    nodes: dict[int, Node] = {n.row: n for n in new}
    subject_parents: dict[str, str] = {}
    for _ in range(3):  # expand twice at most: subject parents may live in other threads
        for chunk in _chunks(sorted(affected)):
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(
                f"SELECT {_NODE_COLUMNS} FROM messages WHERE thread_id IN ({marks})", chunk
            ):
                nodes.setdefault(r[0], _node(r))
        more: set[str] = set()
        for node in nodes.values():
            if node.msgid in subject_parents:
                continue
            found = _subject_parent(conn, node)
            if found is not None:
                subject_parents[node.msgid] = found[0]
                if found[1] is not None and found[1] not in affected:
                    more.add(found[1])
        if not more:
            break
        affected |= more
    return _write(
        conn, seq, _without_addresses(conn, list(nodes.values())), subject_parents, affected
    )


def _without_addresses(conn: sqlite3.Connection, nodes: list[Node]) -> list[Node]:
    """Drop references that are a sender's address, not a message id (docs/fidelity.md).

    Mailers copied MH's `Message from NAME <address> of ...` into References, so
    `<glyph@twistedmatrix.com>` sits among the ids: as a ghost parent it would pull every
    thread it appears in under one root.  A reference is an address when its local part has
    no digit (generated ids nearly always have one), it is the address of a sender in the
    store, and no stored message has it as Message-ID."""
    weak = {r for n in nodes for r in n.refs if not _DIGIT.search(r.split("@", 1)[0])}
    if not weak:
        return nodes
    addresses: set[str] = set()
    for chunk in _chunks(sorted({r.lower() for r in weak if "@" in r})):
        marks = ",".join("?" * len(chunk))
        addresses.update(
            r[0]
            for r in conn.execute(
                f"SELECT value FROM identities WHERE kind = 'address' AND value IN ({marks})",
                chunk,
            )
        )
    if not addresses:
        return nodes
    for chunk in _chunks(sorted(r for r in weak if r.lower() in addresses)):
        marks = ",".join("?" * len(chunk))
        for r in conn.execute(
            f"SELECT message_id_norm FROM messages WHERE message_id_norm IN ({marks})", chunk
        ):
            addresses.discard(r[0].lower())
    return [
        replace(n, refs=tuple(r for r in n.refs if r.lower() not in addresses))
        if any(r.lower() in addresses for r in n.refs)
        else n
        for n in nodes
    ]


def _write(
    conn: sqlite3.Connection,
    seq: int,
    nodes: list[Node],
    subject_parents: dict[str, str],
    old_threads: set[str],
) -> int:
    present = {n.msgid for n in nodes}
    trees = build_threads(nodes, {k: v for k, v in subject_parents.items() if v in present})
    current = {
        r[0]: (r[1], r[2], r[3], r[4], r[5])
        for chunk in _chunks([n.row for n in nodes])
        for r in conn.execute(
            "SELECT id, thread_id, parent_key, depth, thread_pos, parent_direct FROM messages "
            f"WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
    }
    changed = 0
    write_nodes(conn, trees, old_threads)
    for tree in trees:
        updates: list[tuple[str, str | None, int, int, int, int | None, int]] = []
        for row, p in tree.placements.items():
            old = current.get(row)
            placed = (p.thread_id, p.parent_key, p.depth, p.position, int(p.direct))
            if old is None or old[0] != p.thread_id:
                changed += 1
                updates.append((*placed, seq, row))
            elif old[1:] != placed[1:]:
                updates.append((*placed, None, row))
        conn.executemany(
            "UPDATE messages SET thread_id = ?, parent_key = ?, depth = ?, thread_pos = ?, "
            "parent_direct = ?, seq = coalesce(?, seq) WHERE id = ?",
            updates,
        )
    return changed
