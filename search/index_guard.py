"""The per-message guard of index catch-up: one message whose stored row cannot be read
back, whose document fails to build, or that the backend refuses (a value it cannot encode)
is skipped with the reason (`store.unindexable`, shown by `listarchive check`); the other
messages are indexed and catch-up goes on.  A backend that is down (`SearchError`) still
stops catch-up, as before: nothing is skipped for it."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import fields
from operator import attrgetter

from search.base import IndexDoc, SearchBackend, SearchError
from store import unindexable
from store.records import StoredMessage
from store.store import PAGE_BYTES, Store
from store.unindexable import Skipped

logger = logging.getLogger(__name__)

Cursor = tuple[int, str]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _row_fault(exc: BaseException) -> bool:
    """An error from the content of a row (text SQLite cannot decode, damaged JSON), not from
    the database (locked, unreadable): those must stop catch-up, not skip messages."""
    if isinstance(exc, sqlite3.OperationalError):
        return "decode" in str(exc).lower()
    return isinstance(exc, ValueError | TypeError | KeyError | IndexError)


_FIELDS = tuple(spec.name for spec in fields(IndexDoc))
"""The document's fields, looked up once (`dataclasses.fields` per document cost more than
the checks)."""
_VALUES = attrgetter(*_FIELDS)


def text_problem(doc: IndexDoc) -> str:
    """Why a backend could not encode `doc` (a text with lone surrogates), or ""."""
    texts: list[str] = []
    for value in _VALUES(doc):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, tuple):
            texts.extend(text for text in value if isinstance(text, str))
    # every text at once: UTF-8 refuses a surrogate wherever it is, so one encode answers
    # for all of them, and the field is named only when there is one to name
    joined = "".join(texts)
    if joined.isascii():
        return ""
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return _field_problem(doc)
    return ""


def _field_problem(doc: IndexDoc) -> str:
    """`text_problem`, field by field: the first field that cannot be encoded, and why."""
    for name in _FIELDS:
        value = getattr(doc, name)
        texts = value if isinstance(value, tuple) else (value,)
        for text in texts:
            if isinstance(text, str) and not text.isascii():
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return f"field {name}: {_describe(exc)}"
    return ""


class Guard:
    """Skips, and remembers, the messages of one catch-up that cannot be indexed (per page:
    `page`, `documents`, then `index`, which also drops their stale documents)."""

    def __init__(self, store: Store, page_bytes: int = PAGE_BYTES) -> None:
        self.store = store
        self.page_bytes = page_bytes
        """Raw bytes of messages in one page at most (`sync.index_page_bytes`)."""
        self.skipped: list[Skipped] = []
        self._page_start = 0

    def skip(self, key: str, seq: int, reason: str) -> None:
        logger.warning("message %s not indexed: %s", key, reason)
        self.skipped.append(Skipped(key, seq, reason))

    def page(
        self, checkpoint: int, batch: int, after: Cursor | None
    ) -> tuple[list[StoredMessage], Cursor | None]:
        """The next page of changed messages and the cursor past it (None: no more).  When the
        page cannot be read whole, it is read one message at a time, skipping the bad ones."""
        try:
            messages = self.store.changed_since(checkpoint, batch, after, self.page_bytes)
        except Exception as exc:
            if not _row_fault(exc):
                raise
            return self._page_one_by_one(checkpoint, batch, after)
        if not messages:
            return [], None
        return messages, (messages[-1].seq, messages[-1].key)

    def _page_one_by_one(
        self, checkpoint: int, batch: int, after: Cursor | None
    ) -> tuple[list[StoredMessage], Cursor | None]:
        keys = unindexable.changed_keys(self.store.conn, checkpoint, batch, after)
        messages = []
        for seq, key in keys:
            try:
                message = self.store.get_message(key)
            except Exception as exc:
                if not _row_fault(exc):
                    raise
                self.skip(key, seq, f"stored row cannot be read back: {_describe(exc)}")
                continue
            if message is not None:
                messages.append(message)
        return messages, (keys[-1] if keys else None)

    def documents(
        self, messages: Sequence[StoredMessage], build: Callable[[StoredMessage], IndexDoc]
    ) -> list[IndexDoc]:
        docs = []
        for message in messages:
            try:
                doc = build(message)
                problem = text_problem(doc)
            except Exception as exc:  # one document must not stop catch-up
                self.skip(message.key, message.seq, f"index document: {_describe(exc)}")
                continue
            if problem:
                self.skip(message.key, message.seq, f"index document: {problem}")
                continue
            docs.append(doc)
        return docs

    def index(self, backend: SearchBackend, docs: Sequence[IndexDoc], seqs: dict[str, int]) -> int:
        """Index `docs`; when the batch fails for a reason other than the backend being
        unavailable, index them one by one to find, and skip, the culprits."""
        try:
            count = backend.index(docs)
        except SearchError:
            raise
        except Exception as exc:
            logger.warning("indexing a batch failed (%s): indexing it one by one", exc)
            count = 0
            for doc in docs:
                try:
                    count += backend.index([doc])
                except SearchError:
                    raise
                except Exception as one:
                    self.skip(doc.key, seqs.get(doc.key, 0), f"refused: {_describe(one)}")
        skipped = {s.key for s in self.skipped[self._page_start :]}
        self._page_start = len(self.skipped)
        if skipped:  # an older document of a skipped message is stale: it leaves the index
            backend.delete(sorted(skipped))
        if not self.store.readonly:
            unindexable.forget(self.store.conn, {doc.key for doc in docs} - skipped)
        return count

    def finish(self) -> None:
        """Record the skipped messages in the store (a read-only one: logged only)."""
        if self.skipped and not self.store.readonly:
            unindexable.record(self.store.conn, self.skipped)
