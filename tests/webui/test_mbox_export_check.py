"""An mbox export reads a message's bytes only if its reader may read them then, whatever
chose the keys (issue 14, review RV): a search index out of step with the store hands the
export keys of messages made private or removed since; a removal made while a long export
streams applies to its later pages."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from store import removals, visibility
from store.store import Store
from tests.webui.conftest import PRIVATE, PUBLIC
from webui.exports import Envelope, mbox_stream


def _key_only_on(conn: sqlite3.Connection, name: str) -> str:
    row = conn.execute(
        "SELECT m.key FROM messages m JOIN memberships ms ON ms.message = m.id "
        "JOIN lists l ON l.id = ms.list WHERE l.name = ? AND m.message_id NOT LIKE '%synthetic-%' "
        "AND m.id NOT IN "
        "(SELECT message FROM memberships GROUP BY message HAVING count(*) > 1) "
        "ORDER BY m.id LIMIT 1",
        (name,),
    ).fetchone()
    assert row is not None
    return str(row[0])


def _exported(data: Path, keys: list[str], viewer: visibility.Visibility) -> bytes:
    batches = iter([[Envelope(k, "someone@example.org", datetime(2005, 1, 1)) for k in keys]])
    return b"".join(mbox_stream(Store(data / "store.db"), batches, viewer))


def _message_id(conn: sqlite3.Connection, key: str) -> bytes:
    row = conn.execute("SELECT message_id FROM messages WHERE key = ?", (key,)).fetchone()
    return str(row[0]).strip("<>").encode()


def test_private_and_removed_bytes_are_never_exported(webui_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(webui_data, data)
    store = Store(data / "store.db")
    try:
        conn = store.conn
        public, private = _key_only_on(conn, PUBLIC), _key_only_on(conn, PRIVATE)
        ids = {k: _message_id(conn, k) for k in (public, private)}
        anonymous = visibility.for_reader(conn, include_private=False)
        everyone = visibility.for_reader(conn, include_private=True)
    finally:
        store.close()

    shown = _exported(data, [public, private], anonymous)
    assert ids[public] in shown and ids[private] not in shown
    both = _exported(data, [public, private], everyone)
    assert ids[public] in both and ids[private] in both

    # removed after the viewer was taken (a removal during a long export): not exported
    store = Store(data / "store.db")
    try:
        removals.remove(store.conn, "message", public, [public], reason="t", actor="test")
    finally:
        store.close()
    assert not everyone.removals  # the viewer of the request, taken before the removal
    after = _exported(data, [public, private], everyone)
    assert ids[public] not in after and ids[private] in after
