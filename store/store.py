"""The store: one SQLite database in WAL mode, the source of truth.

One writer at a time (the sync process); readers open their own connections.  Every write of
a volume (its messages, memberships, quarantined items and fetch state) is one transaction,
so a killed run leaves either the whole volume or nothing of it.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from store import faults, files, tx
from store.errors import StoreAccessError as StoreAccessError
from store.errors import StoreCorruptError as StoreCorruptError
from store.errors import StoreError as StoreError
from store.errors import StoreFullError as StoreFullError
from store.list_rows import ListRows
from store.list_rows import UnknownListError as UnknownListError
from store.list_rows import utcnow_iso as utcnow_iso
from store.schema import MIGRATIONS, checked_version, migrate

# A reader (`listarchive search` opens the store read-only to check it) imports neither the
# writers (identities, threading, quarantine, the volume writer) nor the message records,
# reader and communities (issue 14, CLI start-up: tests/cli/test_startup_imports.py): each
# method imports what it uses; `lists` only `store.list_info`.
if TYPE_CHECKING:
    from store.records import (
        Quarantined,
        SaveCounts,
        StoredItem,
        StoredMessage,
        VolumeState,
    )
    from store.volume_writer import VolumeWriter

logger = logging.getLogger(__name__)


PAGE_BYTES = 32 * 1024 * 1024
"""Raw bytes of messages in one page of `changed_since` (the index catch-up's memory;
`sync.index_page_bytes`)."""


class Store(ListRows):
    """The store's connection, change sequence, volumes and messages (the methods over its
    lists are mixed in from `store.list_rows.ListRows`)."""

    def __init__(self, path: Path, *, readonly: bool = False, create: bool = True) -> None:
        """Open the store at `path`; a writer creates it (mode 0600) when missing if `create`.
        A damaged file raises StoreCorruptError, an unusable one StoreAccessError
        (`store.faults`), a missing or empty one beside its own write-ahead log is refused."""
        self.path = path
        self.readonly = readonly
        self._refuse_replacement(create and not readonly)
        try:
            self._connect()
        except (sqlite3.Error, StoreError) as exc:
            if hasattr(self, "conn"):
                self.conn.close()
            if isinstance(exc, StoreError):  # no store there, or a newer schema
                raise
            found = faults.classify(exc, path)
            if found is None:
                raise
            raise found from exc

    def _refuse_replacement(self, create: bool) -> None:
        """SQLite takes a missing or zero-byte file for a new, empty database.  That is only
        right when nothing of an earlier store is left: a write-ahead log with data beside
        it means store.db was lost or truncated (callers that know of other traces, such as
        a search index, check those: `listarchive.app.open_store`)."""
        path = self.path
        if files.holds_data(path):
            return
        beside = files.data_beside(path)
        if beside:
            state = "empty (0 bytes)" if path.exists() else "missing"
            names = ", ".join(p.name for p in beside)
            raise StoreCorruptError(
                path,
                f"the store is {state} but {names} beside it hold data of an earlier store",
                "restore store.db from a backup (README, 'Backups'); to start again with a "
                "new, empty store, move those files away first",
            )
        if not create:
            state = "empty (0 bytes)" if path.exists() else "missing"
            raise StoreError(f"the store {path} is {state}: run `listarchive sync` first")

    def _connect(self) -> None:
        path = self.path
        if self.readonly:
            uri = f"file:{path}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            version = checked_version(self.conn)  # reads the header: damage shows here
            if version == 0:
                raise StoreError(f"{path} holds no store: run `listarchive sync` first")
            if version < len(MIGRATIONS):  # made by an older version: brought up to date once
                # through a writer's open: this program's readers need the current schema
                # (docs/architecture.md, "Read-only opens of an older store")
                logger.info(
                    "%s: schema %d is older than this program's %d: migrating it first (a "
                    "writing open, once; it needs write access and may take minutes)",
                    path,
                    version,
                    len(MIGRATIONS),
                )
                self.conn.close()
                Store(path).close()
                self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            files.create_private(path)  # before SQLite: its -wal and -shm get this mode
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # a new file's page size (an existing file keeps its own): bigger pages hold
            # more rows each and leave less of a large row's last overflow page unused
            self.conn.execute(f"PRAGMA page_size = {files.PAGE_SIZE}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            # deleted content (removals, purges) is overwritten, not left in free pages
            self.conn.execute("PRAGMA secure_delete = ON")
            migrate(self.conn)
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA busy_timeout = 10000")
        if not self.readonly:
            from store import identities

            # read first: an INSERT, even one that inserts nothing, takes the write lock, and
            # a sync may hold it for a volume's transaction
            if self.conn.execute("SELECT 1 FROM meta WHERE key = 'store_id'").fetchone() is None:
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)",
                    (uuid.uuid4().hex,),
                )
            identities.assign_missing(self.conn)  # messages stored before schema 4
            identities.rename_if_stale(self.conn)

    @property
    def store_id(self) -> str:
        """A random id given to this store when it was created: an index built from another
        store (a recreated data directory, a shared Elasticsearch) is recognised and rebuilt."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        return str(row[0]) if row else ""

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a full disk raises StoreFullError (`store.tx`)."""
        with tx.transaction(self.conn, self.path):
            yield self.conn

    # -- change sequence -------------------------------------------------------------------

    def _next_seq(self, conn: sqlite3.Connection, count: int = 1) -> int:
        """Reserve `count` sequence numbers; returns the first one."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
        current = int(row[0]) if row else 0
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('change_seq', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(current + count),),
        )
        return current + 1

    def change_seq(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()
        return int(row[0]) if row else 0

    # -- volumes -------------------------------------------------------------------------

    def volume_states(self, list_id: int) -> dict[str, VolumeState]:
        rows = self.conn.execute(
            "SELECT name, url, etag, last_modified, sha256, size, message_count, fetched_at, "
            "status, error, limits, resume_offset, resume_fp FROM volumes WHERE list = ?",
            (list_id,),
        ).fetchall()
        from store.records import VolumeState

        return {r[0]: VolumeState(*r) for r in rows}

    def record_volume(self, list_id: int, state: VolumeState) -> None:
        with self.transaction() as conn:
            self._upsert_volume(conn, list_id, state)

    @staticmethod
    def _upsert_volume(conn: sqlite3.Connection, list_id: int, state: VolumeState) -> None:
        conn.execute(
            "INSERT INTO volumes (list, name, url, etag, last_modified, sha256, size, "
            "message_count, fetched_at, status, error, limits, resume_offset, resume_fp) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (list, name) DO UPDATE SET url = excluded.url, etag = excluded.etag, "
            "last_modified = excluded.last_modified, sha256 = excluded.sha256, "
            "size = excluded.size, message_count = excluded.message_count, "
            "fetched_at = excluded.fetched_at, status = excluded.status, error = excluded.error, "
            "limits = excluded.limits, resume_offset = excluded.resume_offset, "
            "resume_fp = excluded.resume_fp",
            (
                list_id,
                state.name,
                state.url,
                state.etag,
                state.last_modified,
                state.sha256,
                state.size,
                state.message_count,
                state.fetched_at,
                state.status,
                state.error,
                state.limits,
                state.resume_offset,
                state.resume_fp,
            ),
        )

    # -- messages ------------------------------------------------------------------------

    def save_volume(
        self,
        list_id: int,
        state: VolumeState,
        items: Sequence[StoredItem],
        quarantined: Sequence[Quarantined] = (),
    ) -> SaveCounts:
        """Store one volume's messages, memberships, quarantine and fetch state atomically
        (one batch of `volume_writer`).

        A message whose key is already stored (the same message delivered or exported
        again) is a duplicate: it is counted and only gains a list membership if it lacks one.
        A message under a removal (`store.removals` tombstones) is counted as `removed`: a
        purged one is not stored again, a new copy of a removed one is stored hidden.
        """
        with self.volume_writer(list_id, state) as writer:
            counts = writer.add(items, quarantined)
        return counts

    @contextmanager
    def volume_writer(
        self, list_id: int, state: VolumeState, *, release_held: bool = False
    ) -> Iterator[VolumeWriter]:
        """Store one volume batch by batch (`VolumeWriter.add`, each as `save_volume` would),
        in one transaction: committed with the fetch state (`writer.state`) when the block
        ends, rolled back whole if it raises (`store.volume_writer`).  `release_held`: the
        volume is read whole again because a limit that quarantined some of its messages was
        raised: those rows are deleted first (`quarantine.release_held`), and the messages
        still over a limit are quarantined again with the limits now in force."""
        from store import quarantine
        from store.volume_writer import VolumeWriter

        with self.transaction() as conn:
            if release_held:
                quarantine.release_held(conn, list_id, state.name)
            writer = VolumeWriter(self, conn, list_id, state)
            yield writer
            writer.finish()

    @staticmethod
    def _ids_for(conn: sqlite3.Connection, keys: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), 900):
            chunk = ordered[start : start + 900]
            marks = ",".join("?" * len(chunk))
            found.update(
                conn.execute(f"SELECT key, id FROM messages WHERE key IN ({marks})", chunk)
            )
        return found

    # -- threading -----------------------------------------------------------------------

    def rethread(self, chunk: int = 10_000) -> int:
        """Thread every message not yet threaded (and re-link the threads they touch), in
        chunks of `chunk` new messages, one transaction each.  New messages' senders are
        named first (`store.identities`: their identities were assigned when stored)."""
        from store import identities
        from store import threading as store_threading

        identities.assign_missing(self.conn)
        identities.refresh_stale_names(self.conn)
        total = 0
        while True:
            with self.transaction() as conn:
                if not conn.execute("SELECT 1 FROM messages WHERE thread_id IS NULL").fetchone():
                    break
                seq = self._next_seq(conn)
                total += store_threading.rethread(conn, seq, chunk)
        if total:
            logger.info("threading updated %d messages", total)
        return total

    # -- reads ---------------------------------------------------------------------------

    def message_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM messages").fetchone()[0])

    def quarantine_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM quarantine").fetchone()[0])

    def changed_since(
        self,
        seq: int,
        limit: int,
        after: tuple[int, str] | None = None,
        max_bytes: int = PAGE_BYTES,
    ) -> list[StoredMessage]:
        """Messages whose seq is above `seq` (for index catch-up), in (seq, key) order: at
        most `limit`, and no more than `max_bytes` of raw messages (at least one), so a page
        of big messages is a few of them, never `limit` megabytes.

        Many messages share one seq (a threading pass stamps all it touched), so pages are
        keyed on (seq, key): pass the last message's (seq, key) as `after`.
        """
        if after is None:
            where: str = "m.seq > ?"
            params: list[object] = [seq]
        else:
            where = "(m.seq > ? OR (m.seq = ? AND m.key > ?))"
            params = [after[0], after[0], after[1]]
        sizes = self.conn.execute(
            f"SELECT m.raw_size FROM messages m WHERE {where} ORDER BY m.seq, m.key LIMIT ?",
            (*params, limit),
        )
        count = total = 0
        for (size,) in sizes:
            total += int(size or 0)
            if count and total > max_bytes:
                break
            count += 1
        if not count:
            return []
        from store.reader import read_messages

        return read_messages(
            self.conn,
            f"{where} ORDER BY m.seq, m.key LIMIT ?",
            (*params, count),
            with_bodies=True,
        )

    def get_message(self, key: str) -> StoredMessage | None:
        from store.reader import read_messages

        found = read_messages(self.conn, "m.key = ?", (key,), with_bodies=True)
        return found[0] if found else None

    def raw_bytes(self, key: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT content, body_bytes FROM messages WHERE key = ?", (key,)
        ).fetchone()
        from store.content import raw_bytes

        return raw_bytes(row[0], row[1]) if row else None
