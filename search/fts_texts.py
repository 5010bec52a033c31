"""The indexed bodies of the embedded backend, kept compressed beside its contentless FTS5 table.

The FTS5 table ``fts`` keeps no copy of the text it indexes (``content = ''``, issue 14: the
store holds the messages, and a third copy of their text cost more than the inverted index).
``docs.texts`` holds the indexed ``body_own`` then ``body_quoted`` (as cut by
`search.snippets.bounded_doc`) as one zlib stream, ``docs.own_bytes`` the UTF-8 length of the
first.  Snippets are made from it, and it gives FTS5's ``'delete'`` command the exact values a
document was indexed with (a contentless table forgets them; other values would leave its
tokens behind) when the document is replaced or removed.  The subject and sender are read back
from the ``docs`` columns of the same row.
"""

from __future__ import annotations

import sqlite3
import zlib

TEXTS_LEVEL = 6
"""zlib level of `docs.texts`: on twisted-python (33,311 messages) level 6 keeps 22.05 MB, level
1 22.79 MB, for about the same CPU (1.6 s against 1.4 s for all of them; docs/architecture.md,
"Store size")."""

_CHUNK = 500


def pack_texts(own: str, quoted: str) -> tuple[int, bytes]:
    """`docs.own_bytes` and `docs.texts` for the two indexed bodies."""
    first = own.encode("utf-8", "surrogatepass")
    data = first + quoted.encode("utf-8", "surrogatepass")
    return len(first), zlib.compress(data, TEXTS_LEVEL) if data else b""


def unpack_texts(own_bytes: int, texts: bytes) -> tuple[str, str]:
    """The two indexed bodies back from `docs.own_bytes` and `docs.texts`."""
    data = zlib.decompress(texts) if texts else b""
    return (
        data[:own_bytes].decode("utf-8", "surrogatepass"),
        data[own_bytes:].decode("utf-8", "surrogatepass"),
    )


def sender_text(from_name: str, from_addr: str) -> str:
    """The indexed `sender` column: name and address."""
    return f"{from_name} {from_addr}".strip()


def unindex(conn: sqlite3.Connection, docs: str, fts: str, ids: list[int]) -> None:
    """Take documents `ids` out of the contentless table `fts`, with the values they were
    indexed with (read from their `docs` rows, which the caller deletes or replaces after)."""
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id, subject, from_name, from_addr, own_bytes, texts FROM {docs} "
            f"WHERE id IN ({marks})",
            chunk,
        ).fetchall()
        old = []
        for doc_id, subject, from_name, from_addr, own_bytes, texts in rows:
            own, quoted = unpack_texts(int(own_bytes), bytes(texts))
            old.append((doc_id, subject, sender_text(from_name, from_addr), own, quoted))
        conn.executemany(
            f"INSERT INTO {fts} ({fts}, rowid, subject, sender, body_own, body_quoted) "
            "VALUES ('delete', ?, ?, ?, ?, ?)",
            old,
        )
