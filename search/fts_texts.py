"""The indexed text of the embedded backend's contentless FTS5 table, read back from the store.

The FTS5 table ``fts`` keeps no copy of the text it indexes (``content = ''``, issue 14: the
store holds the messages).  Two things need that text again: snippets, and FTS5's ``'delete'``
command, which (SQLite 3.40 has no ``contentless_delete``) forgets a document only when given
the exact values it was indexed with - other values would leave its tokens behind, and
searches would find it by words it no longer has.

* The subject and sender are read back from the ``docs`` row (written with the same values).
* The bodies are derived from the store (`TextSource`, `StoreTexts`): the stored body split
  (`store.body_parts`) and bounded (`search.snippets.bounded_bodies`) as when it was indexed.
  ``docs.text_hash`` is a 64-bit hash of the bounded bodies a document was indexed with, so
  the right text is recognised, never assumed: the new document of a replacement (most
  replacements - a rethread, a new list, a sender's identity - leave the body as it was), else
  the store's current body, else the bodies a reparse or a purge replaced before the index
  caught up (`store.superseded`).  When none matches (a body changed by a program that kept
  no copy, or other text limits since: ``search.max_indexed_bytes``), `unindex` raises
  `IndexOutOfStepError` and the indexer rebuilds the index instead of corrupting it.
* A document whose body is longer than `KEEP_CHARS` characters (a few in an archive) keeps its
  bounded bodies compressed in ``docs.texts`` (``docs.own_bytes``: the UTF-8 length of the
  first), as every document did before: a page of hits then never reads and splits a huge body
  from the store for its snippets, whatever bodies the store holds.
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from search.base import IndexOutOfStepError
from search.snippets import TextLimits, bounded_bodies

if TYPE_CHECKING:  # a search makes no IndexDoc (issue 14)
    from search.index_doc import IndexDoc

logger = logging.getLogger(__name__)

TEXTS_LEVEL = 6
"""zlib level of `docs.texts`: on twisted-python (33,311 messages) level 6 keeps 22.05 MB, level
1 22.79 MB, for about the same CPU (1.6 s against 1.4 s for all of them; docs/architecture.md,
"Store size")."""

KEEP_CHARS = 65536
"""A document whose body (or whose indexed bodies) holds more characters keeps its indexed
bodies in ``docs.texts``: 3 of 33,311 twisted-python messages (0.3 MB of bodies)."""

_CHUNK = 500

Bodies = tuple[str, str]
"""A message's own text and quoted text."""


class TextSource(Protocol):
    """Where the bodies of indexed messages are read back from (the store)."""

    def current(self, keys: Sequence[str], longest: int | None = None) -> dict[str, Bodies]:
        """The bodies of the messages `keys` as stored now (with `longest`: only those of at
        most that many characters)."""

    def superseded(self, keys: Sequence[str]) -> dict[str, list[Bodies]]:
        """The bodies changes replaced while the index may still hold them, oldest first."""


class StoreTexts:
    """`TextSource` over the store file at `path` (a read-only connection, opened when first
    needed; no store there: no bodies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection | None:
        if self._conn is None and self.path.exists():
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=10.0
            )
        return self._conn

    def current(self, keys: Sequence[str], longest: int | None = None) -> dict[str, Bodies]:
        from store.body_parts import split_body
        from store.content import body_text

        conn = self._open()
        found: dict[str, Bodies] = {}
        if conn is None:
            return found
        bound = "" if longest is None else f" AND body_chars <= {int(longest)}"
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys[start : start + _CHUNK])
            marks = ", ".join("?" * len(chunk))
            for key, stream, size in conn.execute(
                f"SELECT key, content, body_bytes FROM messages WHERE key IN ({marks}){bound}",
                chunk,
            ):
                try:
                    parts = split_body(body_text(stream, size))
                except (UnicodeDecodeError, zlib.error) as exc:  # damaged: not found again
                    logger.warning("message %s: stored body cannot be read: %s", key, exc)
                    continue
                found[key] = (parts.own, parts.quoted)
        return found

    def superseded(self, keys: Sequence[str]) -> dict[str, list[Bodies]]:
        from store import superseded
        from store.body_parts import split_body

        conn = self._open()
        if conn is None:
            return {}
        try:
            kept = superseded.bodies_of(conn, keys)
        except sqlite3.OperationalError as exc:  # a store older than the table
            logger.debug("no superseded bodies: %s", exc)
            return {}
        return {
            key: [(p.own, p.quoted) for p in map(split_body, bodies)]
            for key, bodies in kept.items()
        }

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def text_hash(own: str, quoted: str) -> int:
    """`docs.text_hash` of the indexed bodies: 64 bits of BLAKE2b, as a signed integer."""
    import hashlib  # for indexing only: a search does not load OpenSSL (issue 14, CLI start-up)

    data = f"{own}\x00{quoted}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def pack_texts(own: str, quoted: str) -> tuple[int, bytes]:
    """`docs.own_bytes` and `docs.texts` for the two indexed bodies."""
    first = own.encode("utf-8", "surrogatepass")
    data = first + quoted.encode("utf-8", "surrogatepass")
    return len(first), zlib.compress(data, TEXTS_LEVEL) if data else b""


def unpack_texts(own_bytes: int, texts: bytes) -> Bodies:
    """The two indexed bodies back from `docs.own_bytes` and `docs.texts`."""
    data = zlib.decompress(texts) if texts else b""
    return (
        data[:own_bytes].decode("utf-8", "surrogatepass"),
        data[own_bytes:].decode("utf-8", "surrogatepass"),
    )


def _epoch(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def doc_row(doc: IndexDoc, doc_id: int) -> tuple[int | str | bytes | None, ...]:
    """The `docs` row of `doc` (bounded): a long body's indexed text kept (`fts_texts`)."""
    lists = "|" + "|".join(doc.lists) + "|" if doc.lists else ""
    own, quoted = doc.body_own, doc.body_quoted
    long = max(doc.body_chars, len(own) + len(quoted)) > KEEP_CHARS
    own_bytes, texts = pack_texts(own, quoted) if long else (0, b"")
    return (
        doc_id,
        doc.key,
        doc.message_id,
        lists,
        doc.thread_id,
        doc.from_name,
        doc.from_addr,
        doc.subject,
        _epoch(doc.date),
        "\n".join(doc.attachments),
        int(doc.private),
        doc.identity,
        own_bytes,
        texts,
        text_hash(own, quoted),
    )


def sender_text(from_name: str, from_addr: str) -> str:
    """The indexed `sender` column: name and address."""
    return f"{from_name} {from_addr}".strip()


def _found_again(
    source: TextSource, limits: TextLimits, wanted: dict[str, int]
) -> dict[str, Bodies]:
    """The bounded bodies whose hash is `wanted[key]`, from the store now, else from the
    bodies changes replaced."""
    found: dict[str, Bodies] = {}
    for key, bodies in source.current(list(wanted)).items():
        bounded = bounded_bodies(*bodies, limits)
        if text_hash(*bounded) == wanted[key]:
            found[key] = bounded
    missing = [key for key in wanted if key not in found]
    if missing:
        for key, replaced in source.superseded(missing).items():
            for bodies in replaced:
                bounded = bounded_bodies(*bodies, limits)
                if text_hash(*bounded) == wanted[key]:
                    found[key] = bounded
                    break
    return found


def unindex(
    conn: sqlite3.Connection,
    tables: tuple[str, str],
    ids: list[int],
    texts: tuple[TextSource, TextLimits],
    fresh: dict[str, Bodies] | None = None,
) -> None:
    """Take documents `ids` out of the contentless table ``tables[1]`` with the values they were
    indexed with (their ``tables[0]`` rows, which the caller deletes or replaces after);
    `fresh`: the bounded bodies of the documents replacing them, by key (tried first).  Raises
    `IndexOutOfStepError` (nothing changed) when a document's text cannot be found again."""
    docs, fts = tables
    old = []
    pending: dict[str, tuple[int, str, str, int]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id, key, subject, from_name, from_addr, own_bytes, texts, text_hash "
            f"FROM {docs} WHERE id IN ({marks})",
            chunk,
        ).fetchall()
        for doc_id, key, subject, from_name, from_addr, own_bytes, kept, wanted in rows:
            sender = sender_text(from_name, from_addr)
            if kept:
                old.append((doc_id, subject, sender, *unpack_texts(int(own_bytes), bytes(kept))))
                continue
            bodies = (fresh or {}).get(key)
            if bodies is not None and text_hash(*bodies) == wanted:
                old.append((doc_id, subject, sender, *bodies))
            else:
                pending[key] = (doc_id, subject, sender, int(wanted))
    if pending:
        source, limits = texts
        found = _found_again(source, limits, {key: row[3] for key, row in pending.items()})
        lost = sorted(set(pending) - set(found))
        if lost:
            raise IndexOutOfStepError(
                f"the indexed text of {len(lost)} document(s) is not in the store any more "
                f"(first: {lost[0]}): the search index must be rebuilt"
            )
        old.extend((*pending[key][:3], *found[key]) for key in pending)
    conn.executemany(
        f"INSERT INTO {fts} ({fts}, rowid, subject, sender, body_own, body_quoted) "
        "VALUES ('delete', ?, ?, ?, ?, ?)",
        old,
    )


def page_bodies(
    conn: sqlite3.Connection, hits: Sequence[tuple[int, str]], texts: tuple[TextSource, TextLimits]
) -> dict[int, Bodies]:
    """The indexed bodies of a page of hits (document id, key), for their snippets: kept in
    ``docs.texts`` for a long body, else read from the store (a body longer than
    `KEEP_CHARS` there now, the index not caught up yet: none)."""
    if not hits:
        return {}
    marks = ", ".join("?" * len(hits))
    rows = conn.execute(
        f"SELECT id, own_bytes, texts FROM docs WHERE id IN ({marks})", [h[0] for h in hits]
    ).fetchall()
    found = {int(i): unpack_texts(int(size), bytes(kept)) for i, size, kept in rows if kept}
    wanted = {key: doc_id for doc_id, key in hits if doc_id not in found}
    if wanted:
        source, limits = texts
        for key, bodies in source.current(list(wanted), KEEP_CHARS).items():
            found[wanted[key]] = bounded_bodies(*bodies, limits)
    return found
