"""The search index fed from the parser workers' texts (issue 14, task IN2): the bodies a worker
splits for the index are the stored body's parts, a sync whose catch-up takes them builds the
very index a catch-up from the store alone builds (duplicates on a second, private list,
hidden and purged messages' copies, quarantined messages), and a text that was not kept, or
whose row no longer holds the blob it came with, is read from the store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from ingest.sources.base import Volume
from ingest.sources.mbox import MboxSource
from ingest.sync import sync_list
from ingest.worker import Limits, Rejected, build_item, parse_volume
from search import indexer
from search.factory import open_backend
from store import content, removals
from store.body_parts import split_body
from store.records import StoredItem
from store.store import Store
from store.volume_writer import IndexedItem, KeptTexts, keep_for_index, kept_for_index


def _stored_parts(blob: bytes, body_bytes: int) -> tuple[str, str]:
    body = content.body_text(blob, body_bytes)
    parts = split_body(body) if body else None
    return (parts.own, parts.quoted) if parts is not None else ("", "")


def _check_items(items: list[IndexedItem]) -> tuple[int, int]:
    from store.records import MESSAGE_COLUMNS

    at = MESSAGE_COLUMNS.index("content")
    size = MESSAGE_COLUMNS.index("body_bytes")
    quoted = non_ascii = 0
    for item in items:
        assert isinstance(item, IndexedItem)
        assert item.texts == _stored_parts(item.row[at], item.row[size]), item.key
        quoted += bool(item.texts[1])
        non_ascii += not "".join(item.texts).isascii()
    return quoted, non_ascii


def test_worker_texts_are_the_stored_bodys_parts(corpus: Path) -> None:
    """Real volumes and the pathological fixtures: each worker-built text is what the store
    derives from the stored body (`store.reader`)."""
    volumes = sorted((corpus / "pipermail/twisted/twisted-python").glob("*.txt.gz"))[::20]
    fixtures = sorted((corpus / "pathological").rglob("*.mbox"))
    items: list[IndexedItem] = []
    for path in [*volumes, *fixtures]:
        parsed = parse_volume("mbox", Volume(path.name, path.as_uri()), b"", path=str(path))
        assert not parsed.error, path
        items.extend(item for item in parsed.items if isinstance(item, IndexedItem))
        assert len(items) > 0
    for path in sorted((corpus / "pathological").rglob("*.eml")):
        try:
            item = build_item(path.read_bytes(), "", path.name, 0, 20)
        except Rejected:
            continue
        assert isinstance(item, IndexedItem)
        items.append(item)
    quoted, non_ascii = _check_items(items)
    assert len(items) > 1500 and quoted > 500 and non_ascii > 20
    plain = build_item(
        (corpus / "pathological/fixtures/mailman-3.3.10/bad_email.eml").read_bytes(),
        "",
        "x",
        0,
        20,
        index_texts=False,
    )
    assert not isinstance(plain, IndexedItem)


def _index_rows(data: Path) -> dict[str, list[tuple[object, ...]]]:
    """The index's documents, their sizes and every token's position, by message key (the
    documents' ids follow the order of the catch-up's pages, which depends on when the sync's
    rounds of threading ran: the workers' timing)."""
    conn = sqlite3.connect(data / "search-fts.db")
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'instance')")
        return {
            "docs": [r[1:] for r in conn.execute("SELECT * FROM docs ORDER BY key")],
            "sizes": conn.execute(
                "SELECT d.key, s.sz FROM fts_docsize s JOIN docs d ON d.id = s.id ORDER BY d.key"
            ).fetchall(),
            "vocab": conn.execute(
                "SELECT v.term, d.key, v.col, v.offset FROM temp.vocab v JOIN docs d "
                "ON d.id = v.doc ORDER BY v.term, d.key, v.col, v.offset"
            ).fetchall(),
        }
    finally:
        conn.close()


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pages' messages took kept texts (`KeptTexts.take` answered)."""
    taken = [0]
    real = KeptTexts.take

    def take(self: KeptTexts, key: str, blob: bytes) -> tuple[str, str, int] | None:
        found = real(self, key, blob)
        taken[0] += found is not None
        return found

    monkeypatch.setattr(KeptTexts, "take", take)
    return taken


def _archive(corpus: Path, data: Path, keep: bool, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Two lists synced over the same twisted-web volumes (the second private, overlapping the
    first: duplicates on a new list), a message purged and a thread hidden in between, large
    messages quarantined; the index caught up during and after each sync."""
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted/twisted-web").glob("*.txt.gz"))]
    if not keep:
        monkeypatch.setattr("ingest.sync.keep_for_index", lambda store: None)
    store = Store(data / "store.db")
    backend = open_backend("sqlite", data)
    limits = Limits(max_message_bytes=12_000)

    def catch_up() -> None:
        indexer.catch_up(store, backend)

    try:
        first, second = volumes[:24], volumes[16:36]
        store.add_list("web", "mbox", paths=first)
        sync_list(store, "web", MboxSource(first), catch_up=catch_up, tail_every=150, limits=limits)
        catch_up()
        keys = [  # messages of the volumes both lists hold: the second sync sees them again
            r[0]
            for r in store.conn.execute(
                "SELECT m.key FROM messages m JOIN memberships ms ON ms.message = m.id "
                "WHERE ms.origin = ? ORDER BY m.key",
                (Path(second[2]).name,),
            )
        ]
        purged = keys[5]
        removals.remove(store.conn, "message", purged, [purged], reason="t", actor="t", purge=True)
        thread = removals.thread_of(store.conn, keys[9])
        hidden = removals.keys_for_thread(store.conn, thread)
        removals.remove(store.conn, "thread", thread, hidden, reason="t", actor="t")
        indexer.refresh(store, backend, [purged, *hidden])
        store.add_list("mirror", "mbox", paths=second, private=True)
        summary = sync_list(
            store, "mirror", MboxSource(second), catch_up=catch_up, tail_every=150, limits=limits
        )
        assert summary.duplicates > 100 and summary.new_messages > 100
        assert summary.removed >= 2  # the purged one not stored again, the hidden ones' copies
        assert store.quarantine_count() > 0
        catch_up()
    finally:
        backend.close()
    return store


def test_an_index_fed_from_kept_texts_is_the_one_read_from_the_store(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _counting(monkeypatch)
    with monkeypatch.context() as patched:
        _archive(corpus, tmp_path / "store-only", False, patched).close()
    assert taken[0] == 0
    _archive(corpus, tmp_path / "kept", True, monkeypatch).close()
    stored = Store(tmp_path / "kept" / "store.db")
    try:
        count = stored.message_count()
        private = stored.conn.execute(
            "SELECT count(*) FROM memberships ms JOIN lists l ON l.id = ms.list WHERE l.private"
        ).fetchone()[0]
    finally:
        stored.close()
    assert taken[0] > 0.9 * count and private > 100
    kept, alone = _index_rows(tmp_path / "kept"), _index_rows(tmp_path / "store-only")
    assert len(kept["docs"]) > 1000 and len(kept["vocab"]) > 100_000
    for name in ("docs", "sizes", "vocab"):
        assert kept[name] == alone[name], name


def _sync_kept(corpus: Path, data: Path) -> tuple[Store, KeptTexts]:
    """One list synced with its texts kept and no catch-up yet."""
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted/twisted-web").glob("*.txt.gz"))]
    store = Store(data / "store.db")
    kept = keep_for_index(store)
    store.add_list("web", "mbox", paths=volumes[:10])
    sync_list(store, "web", MboxSource(volumes[:10]), workers=2)
    return store, kept


def test_texts_not_kept_or_out_of_step_are_read_from_the_store(
    corpus: Path, tmp_path: Path
) -> None:
    """A text dropped (lost on its way), one planted with another blob (the row changed since
    it was kept) and a body rewritten in the store after its text was kept: each document is
    the store's, the planted text is in no document, and nothing kept is left."""
    store, kept = _sync_kept(corpus, tmp_path / "a")
    reference, _ = _sync_kept(corpus, tmp_path / "b")
    keys = [r[0] for r in store.conn.execute("SELECT key FROM messages ORDER BY key")]
    assert all(key in kept for key in keys)
    dropped, planted, rewritten = keys[3], keys[7], keys[11]
    kept.take(dropped, b"")  # gone from what is kept
    blob, own, quoted, chars = kept._texts[planted]  # noqa: SLF001 - planting one
    kept._texts[planted] = (blob + b"x", "planted wrongword", quoted, chars)  # noqa: SLF001
    new_body = "a body rewritten after its text was kept\n> with a quote\n"
    for conn in (store.conn, reference.conn):
        raw = conn.execute("SELECT raw_size FROM messages WHERE key = ?", (rewritten,))
        assert raw.fetchone() is not None
        packed, size, length = content.pack(new_body, b"raw")
        with conn:
            conn.execute(
                "UPDATE messages SET content = ?, body_bytes = ?, body_chars = ? WHERE key = ?",
                (packed, size, length, rewritten),
            )
    kept_for_index(reference).clear()  # type: ignore[union-attr]
    backends = {name: open_backend("sqlite", tmp_path / name) for name in ("a", "b")}
    try:
        assert indexer.catch_up(store, backends["a"]) == len(keys)
        assert indexer.catch_up(reference, backends["b"]) == len(keys)
        assert kept.size == 0 and not kept._texts  # noqa: SLF001
        assert backends["a"].search("wrongword").total == 0
        assert backends["a"].search("rewritten").total == 1
    finally:
        for backend in backends.values():
            backend.close()
        store.close()
        reference.close()
    assert _index_rows(tmp_path / "a") == _index_rows(tmp_path / "b")


def test_kept_texts_are_bounded(corpus: Path, tmp_path: Path) -> None:
    """Past its limit nothing more is kept (the rest read from the store): a single volume
    of any size holds no more than the limit until its catch-up."""
    volumes = [str(p) for p in sorted((corpus / "pipermail/twisted/twisted-web").glob("*.txt.gz"))]
    store = Store(tmp_path / "store.db")
    kept = keep_for_index(store, limit=200_000)
    sizes: list[int] = []
    real: Callable[..., None] = KeptTexts.keep

    def keep(self: KeptTexts, items: Sequence[StoredItem]) -> None:
        real(self, items)
        sizes.append(self.size)

    try:
        KeptTexts.keep = keep  # type: ignore[method-assign]
        store.add_list("web", "mbox", paths=volumes[:10])
        sync_list(store, "web", MboxSource(volumes[:10]), workers=1)
    finally:
        KeptTexts.keep = real  # type: ignore[method-assign]
    held = len(kept._texts)  # noqa: SLF001
    try:
        assert max(sizes) <= 200_000 and 0 < held < store.message_count()
        backend = open_backend("sqlite", tmp_path)
        try:
            assert indexer.catch_up(store, backend) == store.message_count()
        finally:
            backend.close()
    finally:
        store.close()
