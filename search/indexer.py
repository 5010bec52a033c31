"""Keep a search backend in step with the store (the store is the source of truth).

Every message change in the store bumps its change sequence; the backend remembers the last
sequence it holds (`checkpoint`).  `catch_up` indexes everything above it, so a sync that ran
while the index was unavailable is caught up on the next call, and `rebuild` starts from zero.

A page of messages is read, then written to the index a while later (seconds for a page of
5,000).  A change landing in between - a purge made in the web UI, which deletes the message's
document at once (`refresh`) - would let the page put the old text back: the store's change
sequences are read again just before the write (a message changed since it was read is not
written: a later page holds it with its new sequence) and just after it (one hidden between
the two looks is taken out again, the text it was indexed with kept for that).  Without it,
the purged text came back into the index and the next catch-up, unable to find that text
again, rebuilt the whole index (issue 14).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from search.base import IndexDoc, IndexOutOfStepError, SearchBackend
from search.index_guard import Guard
from store import removals, superseded
from store.records import StoredMessage
from store.store import PAGE_BYTES, Store

logger = logging.getLogger(__name__)

_CHUNK = 500

LEFT_FOR_SYNC = "left to the next sync or `listarchive reindex` to rebuild"
"""What the log says when a caller that may not rebuild (a web request) finds the index out of
step."""


def to_doc(
    message: StoredMessage,
    communities: dict[str, tuple[str, ...]] | None = None,
    private_lists: frozenset[str] = frozenset(),
) -> IndexDoc:
    """The index document of a message; it is private when every list it is on is private.
    `community` names every community of its lists (a list may be in several); searches by
    community resolve it to lists through the store, so the field is informative only."""
    names = communities or {}
    community = tuple(sorted({c for n in message.lists for c in names.get(n, ())}))
    return IndexDoc(
        key=message.key,
        message_id=message.message_id,
        lists=message.lists,
        thread_id=message.thread_id or "",
        from_name=message.from_name,
        from_addr=message.from_addr,
        subject=message.subject,
        date=message.date,
        body_own=message.body_own,
        body_quoted=message.body_quoted,
        attachments=message.attachments,
        community=community,
        private=bool(message.lists) and all(n in private_lists for n in message.lists),
        identity=message.identity or 0,
        body_chars=len(message.body),
    )


def catch_up(
    store: Store,
    backend: SearchBackend,
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    page_bytes: int = PAGE_BYTES,
    may_rebuild: bool = True,
) -> int:
    """Index every message changed since the backend's checkpoint; returns how many.  Pages
    hold at most `batch` messages and `page_bytes` raw bytes (`sync.index_batch`,
    `sync.index_page_bytes`).  An index that cannot forget a document exactly any more
    (`IndexOutOfStepError`), or that was built from another store, is rebuilt; unless not
    `may_rebuild` (a web request: minutes at a million messages), then the error is raised,
    the rebuild left to the sync or `listarchive reindex` (logged)."""
    try:
        return _catch_up(
            store,
            backend,
            batch=batch,
            progress=progress,
            page_bytes=page_bytes,
            may_rebuild=may_rebuild,
        )
    except IndexOutOfStepError as exc:
        if not may_rebuild:
            logger.warning("%s: %s", exc, LEFT_FOR_SYNC)
            raise
        logger.warning("%s: rebuilding the %s index", exc, backend.name)
        return rebuild(store, backend, batch=batch, page_bytes=page_bytes)


def _applied(store: Store, seq: int | None, keys: Sequence[str] = ()) -> None:
    """The index has applied every change up to `seq` (or deleted the documents of `keys`):
    the bodies kept for it until then go (`store.superseded`)."""
    if store.readonly or not superseded.pending(store.conn, seq, keys):
        return
    with store.transaction() as conn:
        dropped = superseded.prune(conn, seq) if seq is not None else 0
        forgotten = superseded.forget(conn, keys)
    if forgotten:  # a purge's bodies: out of the store's file now, as the purge promises
        superseded.checkpoint(store.conn)
    elif dropped:  # a catch-up's (a purge while the index was away among them, maybe)
        superseded.checkpoint(store.conn, "PASSIVE")


def _catch_up(
    store: Store,
    backend: SearchBackend,
    *,
    batch: int,
    progress: Callable[[int], None] | None,
    page_bytes: int,
    may_rebuild: bool = True,
) -> int:
    indexed_from = backend.get_store_id()
    if indexed_from != store.store_id:
        if indexed_from or backend.count():
            if not may_rebuild:
                raise IndexOutOfStepError(f"the {backend.name} index was built from another store")
            logger.warning("the %s index was built from another store: rebuilding", backend.name)
            return rebuild(store, backend, batch=batch, page_bytes=page_bytes)
        backend.set_store_id(store.store_id)
    checkpoint = backend.get_checkpoint()
    target = store.change_seq()
    if checkpoint >= target:
        return 0
    lists = store.lists()
    communities = {info.name: info.communities for info in lists}
    private_lists = frozenset(info.name for info in lists if info.private)
    logger.info("indexing changes %d..%d into %s", checkpoint + 1, target, backend.name)
    total = 0
    after: tuple[int, str] | None = None
    # one message that cannot be indexed is skipped, with the reason
    guard = Guard(store, page_bytes)
    while True:
        seen = store.change_seq()  # unchanged at the write: nothing read has changed since
        messages, cursor = guard.page(checkpoint, batch, after)
        if cursor is None:
            break
        gone = removals.hidden_keys(store.conn, (m.key for m in messages))
        if gone:  # removed messages leave the index (store.removals); a rebuild skips them
            backend.delete(sorted(gone))
        docs = guard.documents(
            [m for m in messages if m.key not in gone],
            lambda m: to_doc(m, communities, private_lists),
        )
        seqs = {m.key: m.seq for m in messages}
        changed = _changed(store, seen, seqs, [doc.key for doc in docs])
        if changed:  # a later page has them, with their new sequence
            docs = [doc for doc in docs if doc.key not in changed]
        total += guard.index(backend, docs, seqs)
        _take_back(store, backend, seen, {m.key: m.body for m in messages}, seqs, docs)
        after = cursor
        # every message below the last page's seq is indexed: safe to resume from there
        if cursor[0] - 1 > backend.get_checkpoint():
            backend.set_checkpoint(cursor[0] - 1)
        if progress is not None:
            progress(len(messages))
    guard.finish()
    backend.set_checkpoint(target)
    _applied(store, target)
    logger.info("indexed %d messages into %s", total, backend.name)
    return total


def _current_seqs(store: Store, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        rows = store.conn.execute(
            f"SELECT key, seq FROM messages WHERE key IN ({marks})", chunk
        ).fetchall()
        found.update((str(key), int(seq)) for key, seq in rows)
    return found


def _changed(store: Store, seen: int, seqs: dict[str, int], keys: Sequence[str]) -> set[str]:
    """Those of `keys` changed in the store since their page was read (at `seqs`, the
    store's change sequence `seen` before): when the store's sequence has not moved, none
    (one read; the keys looked up again cost ~34 ms a page of 4,466 at 300k)."""
    if store.change_seq() == seen:
        return set()
    now = _current_seqs(store, keys)
    return {key for key in keys if now.get(key) != seqs[key]}


def _take_back(
    store: Store,
    backend: SearchBackend,
    seen: int,
    bodies: dict[str, str],
    seqs: dict[str, int],
    written: Iterable[IndexDoc],
) -> None:
    """The documents just written of messages hidden since their page was read (a purge in
    the web UI landing between `_changed` and the write, whose own delete came first) leave
    the index again.  A purge blanked the body the document was made from: it is kept
    (`store.superseded`) for the delete to find it, then dropped; kept again and deleted once
    more when the purge's own refresh dropped it in between (it drops its messages' kept
    bodies after its delete: `_applied`)."""
    keys = [doc.key for doc in written]
    changed = _changed(store, seen, seqs, keys)
    hidden = sorted(removals.hidden_keys(store.conn, changed)) if changed else []
    if not hidden:
        return
    logger.info("%d message(s) removed while their page was indexed: deleted again", len(hidden))
    for attempt in (1, 2):
        if not store.readonly:
            now = _current_seqs(store, hidden)
            kept = [(key, now[key], bodies[key]) for key in hidden if key in now]
            with store.transaction() as conn:
                superseded.keep(conn, kept)
        try:
            backend.delete(hidden)
            break
        except IndexOutOfStepError:
            if attempt == 2 or store.readonly:
                raise
    _applied(store, None, hidden)


def refresh(
    store: Store,
    backend: SearchBackend,
    keys: Sequence[str],
    *,
    batch: int = 5000,
    page_bytes: int = PAGE_BYTES,
    may_rebuild: bool = True,
) -> int:
    """Bring the documents of `keys` up to date at once (after a removal or its undo): the
    removed ones deleted now, the others indexed again with whatever else changed
    (`catch_up`, which would do all of it later, by change sequence).  Returns how many
    documents were deleted.  An index out of step is rebuilt, unless not `may_rebuild` (the
    web UI): then `IndexOutOfStepError` is raised and the rebuild left to the sync (logged)."""
    wanted = set(keys)
    gone = removals.hidden_keys(store.conn, wanted)
    if gone:
        try:
            backend.delete(sorted(gone))
        except IndexOutOfStepError as exc:
            if not may_rebuild:
                logger.warning("%s: %s", exc, LEFT_FOR_SYNC)
                raise
            logger.warning("%s: rebuilding the %s index", exc, backend.name)
            rebuild(store, backend, batch=batch, page_bytes=page_bytes)
            return len(gone)
        _applied(store, None, sorted(gone))
    if len(gone) < len(wanted):
        catch_up(store, backend, batch=batch, page_bytes=page_bytes, may_rebuild=may_rebuild)
    return len(gone)


def rebuild(
    store: Store, backend: SearchBackend, *, batch: int = 5000, page_bytes: int = PAGE_BYTES
) -> int:
    """Drop the index and rebuild it from the store (the embedded index's file is compacted
    after: the pages of the index it replaced are free in it)."""
    backend.clear()
    backend.set_store_id(store.store_id)
    count = _catch_up(store, backend, batch=batch, progress=None, page_bytes=page_bytes)
    if count == 0:  # an empty store: the fresh index is still the complete one
        backend.set_checkpoint(store.change_seq())
    backend.finish_rebuild()
    compact = getattr(backend, "compact", None)  # the embedded index: the old tables' pages
    if compact is not None:
        compact()
    return count
